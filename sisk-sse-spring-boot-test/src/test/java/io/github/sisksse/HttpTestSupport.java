package io.github.sisksse;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import io.github.sisksse.test.SseEvent;
import org.junit.jupiter.api.Tag;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the tests against {@link SseTestApplication} on a random port share. The tag is inherited: every subclass
 * also runs on Jetty.
 */
@Tag(ServletContainer.TAG)
abstract class HttpTestSupport {

	static final Duration WAIT = Duration.ofSeconds(5);

	/** The data of an event sent by {@code <sender>-<number>}, numbers counting from 0 per sender. */
	private static final Pattern SENT = Pattern.compile("(\\d+)-(\\d+)");

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

	/**
	 * Assert that events sent as {@code <sender>-<number>} by several senders arrived each once (by id) and, per
	 * sender, in the order sent.
	 */
	static void assertEachOnceAndInOrderPerSender(List<SseEvent> received, int senders) {
		int[] next = new int[senders];
		Set<String> ids = new HashSet<>();
		for (SseEvent event : received) {
			assertThat(ids.add(event.lastEventId())).as("id %s once", event.lastEventId()).isTrue();
			Matcher matcher = SENT.matcher(event.data());
			assertThat(matcher.matches()).isTrue();
			int thread = Integer.parseInt(matcher.group(1));
			assertThat(Integer.parseInt(matcher.group(2))).as("order of sender %d", thread).isEqualTo(next[thread]);
			next[thread]++;
		}
	}

}
