package io.github.sisksse;

import java.time.Duration;

import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import org.junit.jupiter.api.Tag;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.awaitility.Awaitility.await;

/**
 * What the tests against {@link SseTestApplication} on a random port share. The tag is inherited: every subclass
 * also runs on Jetty.
 */
@Tag(ServletContainer.TAG)
abstract class HttpTestSupport {

	static final Duration WAIT = Duration.ofSeconds(5);

	@LocalServerPort
	int port;

	@Autowired
	EventSourceRegistry registry;

	@Autowired
	SseTestApplication.StreamController controller;

	SseClient connect(String path) {
		return SseClient.connect(this.port, path);
	}

	/**
	 * Wait for the source a request registered under this identifier.
	 */
	EventSource source(String id) {
		return await().atMost(WAIT).until(() -> this.registry.get(id).orElse(null), (s) -> s != null);
	}

}
