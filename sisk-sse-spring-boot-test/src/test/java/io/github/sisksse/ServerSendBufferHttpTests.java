package io.github.sisksse;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import io.github.sisksse.test.RawSseSocket;
import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.web.server.WebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;

import static io.github.sisksse.test.SseAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code sisk.sse.server.send-buffer} on the running Tomcat or Jetty: its connectors are configured with it, the
 * sockets they accept have it, and a client that stops reading takes only about that much before its events wait
 * in its queue. Without the setting all three fail: on Linux loopback an accepted socket's buffer starts near 2 MB
 * and a client that stops reading takes 2 to 3 MB.
 */
@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sisk.sse.server.send-buffer=64KB", "sisk.sse.queue.max-bytes=16MB",
				"sisk.sse.queue.max-events=4000" })
class ServerSendBufferHttpTests extends HttpTestSupport {

	private static final int SEND_BUFFER = 64 * 1024;

	@Autowired
	WebServerApplicationContext context;

	@Test
	void everyConnectorOfTheServerIsConfiguredWithTheSendBuffer() throws Exception {
		WebServer server = this.context.getWebServer();
		ServletContainer.assertExpected(server);
		assertThat(ServerSockets.configuredSendBuffers(server)).isNotEmpty().containsOnly(SEND_BUFFER);
	}

	@Test
	void anAcceptedConnectionHasTheSendBuffer() throws Exception {
		try (SseClient client = connect("/open?id=sized")) {
			source("sized").send("hello");
			assertThat(client).receives("hello");
			// As set: Linux keeps twice that, for its bookkeeping, and the JDK reports half of what it keeps.
			assertThat(ServerSockets.sendBuffersOfOpenConnections(this.context.getWebServer())).isNotEmpty()
				.allSatisfy((size) -> assertThat(size).isBetween(SEND_BUFFER, 2 * SEND_BUFFER));
		}
	}

	@Test
	void aClientThatStopsReadingTakesAboutTheSendBufferBeforeItsEventsWait() throws Exception {
		int eventSize = 16 * 1024;
		try (RawSseSocket client = RawSseSocket.open(this.port, "/open?id=stopped-reading", 4096)) {
			EventSource source = source("stopped-reading");
			String data = "z".repeat(eventSize);
			for (int i = 0; i < 512; i++) {
				source.send(data);
			}
			// Wait until the writes stall: no event written for a second while some wait in the queue.
			AtomicLong last = new AtomicLong(-1);
			await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofSeconds(1)).until(() -> {
				EventSourceInfo info = source.info();
				return last.getAndSet(info.eventsWritten()) == info.eventsWritten() && info.queuedEvents() > 0;
			});
			// The socket's send buffer, the client's receive buffer, the container's own buffer and one batch in
			// flight: 80 KB on Tomcat, 112 KB on Jetty, where it took 2 to 3 MB uncapped.
			long taken = source.info().eventsWritten() * eventSize;
			assertThat(taken).as("bytes the stopped client took").isLessThan(1024 * 1024);
		}
	}

}
