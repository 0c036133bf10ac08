package io.github.sisksse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import io.github.sisksse.test.SseEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two instances sharing one Redis ({@code sisk.sse.broker=redis}), over HTTP: a stream connected to one receives
 * what is sent on the other, presence spans both, and a client that keeps hopping between them misses nothing.
 */
@Tag(ServletContainer.TAG)
class RedisBrokerHttpTests {

	private static final Duration WAIT = Duration.ofSeconds(10);


	private static TwoInstances instances;

	@BeforeAll
	static void start() {
		instances = TwoInstances.start();
	}

	@AfterAll
	static void stop() {
		instances.close();
	}

	@Test
	void aStreamOnOneInstanceReceivesWhatIsSentToItToItsGroupAndToAllOnTheOther() {
		TwoInstances.Instance a = instances.a;
		TwoInstances.Instance b = instances.b;
		try (SseClient alice = SseClient.connect(a.port(), "/open?id=room-1/alice")) {
			source(a, "room-1/alice");
			// Once A reported it, B counts it among the connections it sends to.
			await().atMost(WAIT).until(() -> b.registry().presence().containsKey("room-1/alice"));
			assertThat(b.registry().send("room-1/alice", "direct")).isEqualTo(1);
			assertThat(b.registry().sendToPrefix("room-1/", "to the group")).isEqualTo(1);
			assertThat(b.registry().broadcast("to everyone")).isGreaterThanOrEqualTo(1);
			await().atMost(WAIT).until(() -> alice.data().size() == 3);
			assertThat(alice.data()).containsExactly("direct", "to the group", "to everyone");
			assertThat(b.registry().get("room-1/alice")).isEmpty();
			source(a, "room-1/alice").close();
		}
	}

	@Test
	void presenceOnEitherInstanceListsTheStreamsOfBothAndForgetsThoseThatEnd() {
		TwoInstances.Instance a = instances.a;
		TwoInstances.Instance b = instances.b;
		try (SseClient onA = SseClient.connect(a.port(), "/open?id=present-a");
				SseClient onB = SseClient.connect(b.port(), "/open?id=present-b")) {
			source(a, "present-a");
			source(b, "present-b");
			await().atMost(WAIT).until(() -> b.registry().presence().containsKey("present-a")
					&& a.registry().presence().containsKey("present-b"));
			assertThat(b.registry().presence()).containsEntry("present-a", 1).containsEntry("present-b", 1);
			assertThat(a.registry().presence()).containsEntry("present-a", 1).containsEntry("present-b", 1);
			source(a, "present-a").close();
			await().atMost(WAIT).until(() -> !b.registry().presence().containsKey("present-a"));
			source(b, "present-b").close();
		}
	}

	@Test
	void anInstanceThatStopsDropsOutOfTheOthersPresence() {
		TwoInstances.Instance third = TwoInstances.Instance.start(instances.redis,
				instances.a.log().keyPrefix());
		try (SseClient client = SseClient.connect(third.port(), "/open?id=on-the-third")) {
			source(third, "on-the-third");
			await().atMost(WAIT).until(() -> instances.a.registry().presence().containsKey("on-the-third"));
			third.close();
			await().atMost(WAIT).until(() -> !instances.a.registry().presence().containsKey("on-the-third"));
		}
		finally {
			third.close();
		}
	}

	/**
	 * Three threads send to the stream and to its group, on both instances, in twelve rounds; in each, while they
	 * send, the client drops and reconnects with its last id to the other instance: each event arrives once, in
	 * each sender's order.
	 */
	@Test
	void aClientHoppingBetweenTheInstancesGetsEveryEventOnceAndInOrderWhileOthersSend() throws Exception {
		TwoInstances.Instance[] both = { instances.a, instances.b };
		String group = "hop-" + System.nanoTime() + "/";
		String stream = group + "member";
		int senders = 3;
		int rounds = 12;
		int perRound = 25;
		CyclicBarrier round = new CyclicBarrier(senders + 1);
		ExecutorService pool = Executors.newFixedThreadPool(senders);
		List<CompletableFuture<?>> sending = new ArrayList<>();
		int hop = 0;
		SseClient client = SseClient.connect(both[hop].port(), "/open?id=" + stream);
		source(both[hop], stream);
		for (int t = 0; t < senders; t++) {
			int thread = t;
			sending.add(CompletableFuture.runAsync(() -> {
				for (int r = 0; r < rounds; r++) {
					awaitRound(round);
					for (int i = r * perRound; i < (r + 1) * perRound; i++) {
						send(both[(thread + i) % 2].registry(), (thread == 0 || thread == 2 && i % 2 == 0),
								stream, group, thread + "-" + i);
						if (i % 5 == 0) {
							pause(2);
						}
					}
				}
			}, pool));
		}
		List<SseEvent> received = new ArrayList<>();
		for (int r = 0; r < rounds; r++) {
			awaitRound(round);
			SseClient current = client;
			await().atMost(WAIT).until(() -> current.events().size() >= 10);
			// Drop mid-stream: whatever was written but not yet parsed must come again, once, on the other one.
			current.close();
			received.addAll(current.events());
			hop = 1 - hop;
			client = SseClient.connect(both[hop].port(), "/open?id=" + stream,
					Map.of("Last-Event-ID", current.lastEventId()));
		}
		CompletableFuture.allOf(sending.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
		pool.shutdown();
		int total = senders * rounds * perRound;
		SseClient last = client;
		await().atMost(WAIT).until(() -> received.size() + last.events().size() >= total);
		last.close();
		received.addAll(last.events());
		assertThat(received).hasSize(total);
		HttpTestSupport.assertEachOnceAndInOrderPerSender(received, senders);
		for (TwoInstances.Instance instance : both) {
			instance.registry().find(stream::equals).forEach(EventSource::close);
		}
	}

	private static EventSource source(TwoInstances.Instance instance, String id) {
		return await().atMost(WAIT).until(() -> instance.registry().get(id).orElse(null), (s) -> s != null);
	}

	private static void send(EventSourceRegistry registry, boolean toTheStream, String stream, String group,
			String data) {
		if (toTheStream) {
			registry.send(stream, data);
		}
		else {
			registry.sendToPrefix(group, data);
		}
	}

	private static void awaitRound(CyclicBarrier round) {
		try {
			round.await(30, TimeUnit.SECONDS);
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static void pause(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
