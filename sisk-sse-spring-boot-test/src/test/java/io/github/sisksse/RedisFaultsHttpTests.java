package io.github.sisksse;

import java.time.Duration;
import java.util.Map;

import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import io.github.sisksse.test.SseEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Two instances sharing one Redis, over HTTP, while Redis goes down and comes back empty, or is flushed: sends fail
 * clearly meanwhile, streams stay open, what is sent afterwards arrives, and clients resuming from before are told
 * to reload.
 */
@Tag(ServletContainer.TAG)
class RedisFaultsHttpTests {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private TwoInstances instances;

	@BeforeEach
	void start() {
		this.instances = TwoInstances.start("--sisk.sse.ping.interval=100ms");
	}

	@AfterEach
	void stop() {
		this.instances.close();
	}

	@Test
	void whileRedisIsDownSendsFailAndStreamsStayOpenAndWhatIsSentOnceItIsBackArrives() {
		TwoInstances.Instance a = this.instances.a;
		TwoInstances.Instance b = this.instances.b;
		try (SseClient client = SseClient.connect(a.port(), "/open?id=through-an-outage")) {
			source(a, "through-an-outage");
			b.registry().send("through-an-outage", "before");
			await().atMost(WAIT).until(() -> client.data().contains("before"));
			this.instances.redis.stop();
			await().atMost(WAIT).until(() -> !a.log().isReachable() && !b.log().isReachable());
			assertThatExceptionOfType(EventLogException.class)
				.isThrownBy(() -> b.registry().send("through-an-outage", "during"));
			assertThatExceptionOfType(EventLogException.class)
				.isThrownBy(() -> a.registry().sendToPrefix("through-", "during"));
			// The stream is still open and pinged.
			int pings = client.comments().size();
			await().atMost(WAIT).until(() -> client.comments().size() > pings + 3);
			assertThat(client.isEnded()).isFalse();
			assertThat(a.registry().get("through-an-outage")).isPresent();
			this.instances.redis.restart();
			await().atMost(Duration.ofSeconds(30)).ignoreException(EventLogException.class).until(() -> {
				b.registry().send("through-an-outage", "after");
				return true;
			});
			a.registry().send("through-an-outage", "after, from a");
			await().atMost(WAIT).until(() -> client.data().size() == 3);
			assertThat(client.data()).containsExactly("before", "after", "after, from a");
			source(a, "through-an-outage").close();
		}
	}

	@Test
	void afterRedisIsFlushedStreamsKeepReceivingAndAClientResumingFromBeforeGetsTheResetEvent() {
		TwoInstances.Instance a = this.instances.a;
		TwoInstances.Instance b = this.instances.b;
		String oldId;
		try (SseClient client = SseClient.connect(a.port(), "/open?id=flushed")) {
			source(a, "flushed");
			b.registry().send("flushed", "before");
			await().atMost(WAIT).until(() -> client.data().contains("before"));
			oldId = client.lastEventId();
			this.instances.redis.flushAll();
			b.registry().send("flushed", "after the flush");
			await().atMost(WAIT).until(() -> client.data().contains("after the flush"));
			assertThat(epoch(client.lastEventId())).isNotEqualTo(epoch(oldId));
		}
		for (TwoInstances.Instance instance : new TwoInstances.Instance[] { b, a }) {
			try (SseClient back = SseClient.connect(instance.port(), "/open?id=flushed",
					Map.of("Last-Event-ID", oldId))) {
				await().atMost(WAIT).until(() -> !back.events().isEmpty());
				assertThat(back.events().get(0)).extracting(SseEvent::type, SseEvent::data)
					.containsExactly("sisk-reset", oldId);
			}
		}
	}

	private static String epoch(String id) {
		return id.substring(0, id.lastIndexOf('-'));
	}

	private static EventSource source(TwoInstances.Instance instance, String id) {
		return await().atMost(WAIT).until(() -> instance.registry().get(id).orElse(null), (s) -> s != null);
	}

}
