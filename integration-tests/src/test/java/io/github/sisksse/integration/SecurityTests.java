package io.github.sisksse.integration;

import java.time.Duration;
import java.util.Objects;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Streams behind Spring Security: identified by the logged-in user, refused before they open for anyone else,
 * ended through an asynchronous dispatch that Spring Security checks too, beside POSTs that still need their CSRF
 * token.
 */
@Tag(ServletContainer.TAG)
@SpringBootTest(classes = SecuredApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
class SecurityTests {

	private static final Duration WAIT = Duration.ofSeconds(5);

	@LocalServerPort
	int port;

	@Autowired
	EventSourceRegistry registry;

	@Autowired
	SecuredApplication.Recorder recorder;

	@BeforeEach
	void forgetEarlierTests() {
		this.recorder.opened.clear();
		this.recorder.asyncDispatches.clear();
	}

	@AfterEach
	void closeEveryStream() {
		this.registry.all().forEach(EventSource::close);
		await().atMost(WAIT).until(() -> this.registry.connectionCount() == 0);
	}

	@Test
	void anonymousStreamRequestIsRefusedBeforeAnyStreamOpens() {
		try (SseClient anonymous = SseClient.connect(this.port, "/events")) {
			assertThat(anonymous.status()).isEqualTo(401);
			assertThat(anonymous.headers().firstValue("Content-Type")).isEmpty();
		}
		try (SseClient anonymous = SseClient.connect(this.port, "/events?user=alice")) {
			assertThat(anonymous.status()).isEqualTo(401);
		}
		assertThat(this.recorder.opened).isEmpty();
		assertThat(this.registry.connectionCount()).isZero();
	}

	@Test
	void streamIsOpenedForTheLoggedInUserOnlyAndEndsThroughASecuredAsyncDispatch() {
		Browser alice = Browser.login(this.port, "alice", "alice-password");
		Browser bob = Browser.login(this.port, "bob", "bob-password");
		try (SseClient aliceStream = SseClient.connect(this.port, "/events", alice.cookieHeaders());
				SseClient bobStream = SseClient.connect(this.port, "/events?user=alice", bob.cookieHeaders())) {
			assertThat(aliceStream.status()).isEqualTo(200);
			assertThat(bobStream.status()).isEqualTo(200);
			await().atMost(WAIT).until(() -> this.registry.size() == 2);
			assertThat(this.recorder.opened).containsExactlyInAnyOrder("alice", "bob");
			this.registry.send("alice", "for alice");
			await().atMost(WAIT).until(() -> aliceStream.data().contains("for alice"));
			assertThat(bobStream.data()).as("bob asked for ?user=alice, which is ignored").isEmpty();
			this.registry.get("alice").orElseThrow().close();
			await().atMost(WAIT).until(aliceStream::isEnded);
		}
		// The request of a stream ends with an async dispatch: Spring Security filtered it, as the stream's user.
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.recorder.asyncDispatches).contains("/events as alice"));
		assertThat(this.recorder.asyncDispatches).allMatch((dispatch) -> !dispatch.endsWith("as nobody"));
	}

	@Test
	void postWithoutTheCsrfTokenIsRefusedAndWithItReachesTheOtherUsersStream() {
		Browser alice = Browser.login(this.port, "alice", "alice-password");
		Browser bob = Browser.login(this.port, "bob", "bob-password");
		try (SseClient bobStream = SseClient.connect(this.port, "/events", bob.cookieHeaders())) {
			EventSource bobSource = await().atMost(WAIT).until(() -> this.registry.get("bob").orElse(null),
					Objects::nonNull);
			assertThat(alice.post("/messages/bob", "forged", false).statusCode()).isEqualTo(403);
			assertThat(alice.post("/messages/bob", "hello", true).statusCode()).isEqualTo(200);
			await().atMost(WAIT).until(() -> !bobStream.data().isEmpty());
			// Events arrive in order: had the forged one been sent, it would have come first.
			assertThat(bobStream.data()).containsExactly("alice: hello");
			assertThat(bobSource.isOpen()).isTrue();
		}
	}

}
