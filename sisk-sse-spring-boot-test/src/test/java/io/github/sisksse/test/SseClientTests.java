package io.github.sisksse.test;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static io.github.sisksse.test.SseAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client over a real connection, on each servlet container.
 */
@Tag(ServletContainer.TAG)
@SpringBootTest(classes = KitTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = "sisk.sse.close-event.name=close")
class SseClientTests {

	@LocalServerPort
	int port;

	@Test
	void readsAStreamAsABrowserWould() {
		try (SseClient client = SseClient.connect(this.port, "/raw")) {
			assertThat(client).isClosedByServer().hasStatus(200).hasRetry(1500);
			// The event left incomplete at the end of the stream is discarded.
			assertThat(client.events()).containsExactly(new SseEvent("message", "first\n", "1"),
					new SseEvent("echo", "none", "1"));
			assertThat(client.comments()).containsExactly("a comment");
			assertThat(client.lastEventId()).isEqualTo("1");
		}
	}

	@Test
	void reconnectSendsTheLastEventId() {
		SseClient first = SseClient.connect(this.port, "/raw");
		assertThat(first).hasLastEventId("1");
		try (SseClient second = first.reconnect()) {
			assertThat(first.isClosed()).isTrue();
			assertThat(second).receivesEvent("echo", "1");
		}
	}

	@Test
	void readsAnEventSourceUntilTheServerClosesIt() {
		try (SseClient client = SseClient.connect(this.port, "/hello")) {
			assertThat(client).receivesExactly("Hello, world!", "").isClosedByServer();
			assertThat(client.events()).extracting(SseEvent::type).containsExactly("message", "close");
			assertThat(client.headers().firstValue("Content-Type")).hasValueSatisfying(
					(type) -> assertThat(type).startsWith("text/event-stream"));
		}
	}

}
