package io.github.sisksse;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.sisksse.test.RawSseSocket;
import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import io.github.sisksse.test.SseEvent;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.context.NestedTestConfiguration;
import org.springframework.test.context.NestedTestConfiguration.EnclosingConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Resumable streams over real HTTP: a client that drops and reconnects with its last id misses nothing.
 */
@Tag(ServletContainer.TAG)
@NestedTestConfiguration(EnclosingConfiguration.OVERRIDE)
class ReplayTests {

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.replay.enabled=true", "sisk.sse.replay.max-events=10000",
					"sisk.sse.ping.interval=100ms" })
	class Resume extends HttpTestSupport {


		/**
		 * Three threads send to the stream each its own way (to the stream, to its group by prefix, by predicate)
		 * while its client keeps dropping and reconnecting: a send racing a reconnect must neither skip the new
		 * connection nor reach it twice.
		 */
		@RepeatedTest(5)
		void clientThatDropsAndReconnectsGetsEveryEventOnceAndInOrderWhileOthersSend() throws Exception {
			String group = "resume-" + System.nanoTime() + "/";
			String stream = group + "member";
			int senders = 3;
			int perSender = 300;
			List<SseEvent> received = new ArrayList<>();
			SseClient client = connect("/open?id=" + stream);
			source(stream);
			ExecutorService pool = Executors.newFixedThreadPool(senders);
			List<CompletableFuture<?>> sending = new ArrayList<>();
			for (int t = 0; t < senders; t++) {
				int thread = t;
				sending.add(CompletableFuture.runAsync(() -> {
					for (int i = 0; i < perSender; i++) {
						String data = thread + "-" + i;
						switch (thread) {
							case 0 -> this.registry.send(stream, data);
							case 1 -> this.registry.sendToPrefix(group, data);
							default -> this.registry.broadcast(data, stream::equals);
						}
						if (i % 3 == 0) {
							pause(5); // pacing, so that events keep flowing across several reconnections
						}
					}
				}, pool));
			}
			int reconnections = 0;
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
			while (received.size() < senders * perSender && System.nanoTime() < deadline) {
				int target = received.size() + 60;
				SseClient current = client;
				await().atMost(WAIT).until(() -> received.size() + current.events().size() >= Math.min(target,
						senders * perSender) || allDone(sending));
				// Drop mid-stream: whatever was written but not yet parsed must come again, once.
				current.close();
				received.addAll(current.events());
				if (received.size() >= senders * perSender) {
					break;
				}
				String lastId = received.get(received.size() - 1).lastEventId();
				client = SseClient.connect(this.port, "/open?id=" + stream, Map.of("Last-Event-ID", lastId));
				reconnections++;
			}
			client.close();
			CompletableFuture.allOf(sending.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
			pool.shutdown();
			assertThat(reconnections).as("reconnections").isGreaterThanOrEqualTo(3);
			assertThat(received).hasSize(senders * perSender);
			HttpTestSupport.assertEachOnceAndInOrderPerSender(received, senders);
			this.registry.find(stream::equals).forEach(EventSource::close);
		}

		@Test
		void generatedIdsIncreasePerStreamAndTheApplicationsOwnIdsAreKept() {
			try (SseClient client = connect("/open?id=numbered")) {
				source("numbered");
				this.registry.send("numbered", "one");
				this.registry.send("numbered", "two");
				this.registry.send("numbered", ServerSentEvent.builder("three").id("custom-3").build());
				await().atMost(WAIT).until(() -> client.events().size() == 3);
				List<SseEvent> events = client.events();
				assertThat(position(events.get(1).lastEventId())).isGreaterThan(position(events.get(0).lastEventId()));
				assertThat(events.get(2).lastEventId()).isEqualTo("custom-3");
			}
			this.registry.send("numbered", "four");
			try (SseClient again = SseClient.connect(this.port, "/open?id=numbered",
					Map.of("Last-Event-ID", "custom-3"))) {
				await().atMost(WAIT).until(() -> !again.events().isEmpty());
				assertThat(again.data()).containsExactly("four");
				source("numbered").close();
			}
		}

		@Test
		void unknownLastEventIdGetsTheResetEventSoThePageReloads() {
			try (SseClient client = SseClient.connect(this.port, "/open?id=forgotten&lastEventId=no-such-id")) {
				await().atMost(WAIT).until(() -> !client.events().isEmpty());
				assertThat(client.events().get(0)).extracting(SseEvent::type, SseEvent::data)
					.containsExactly("sisk-reset", "no-such-id");
				source("forgotten").close();
			}
		}

		@Test
		void broadcastEventsReplayToIdentifiersThatMissedThem() throws Exception {
			String lastId;
			try (SseClient client = connect("/open?id=room-1/alice")) {
				source("room-1/alice");
				this.registry.send("room-1/alice", "before");
				await().atMost(WAIT).until(() -> client.data().contains("before"));
				lastId = client.events().get(0).lastEventId();
			}
			// The client is gone; until the server notices, or after, a broadcast must reach it on reconnect.
			this.registry.broadcast("to the room", (id) -> id.startsWith("room-1/"));
			try (SseClient back = SseClient.connect(this.port, "/open?id=room-1/alice",
					Map.of("Last-Event-ID", lastId))) {
				await().atMost(WAIT).until(() -> !back.data().isEmpty());
				assertThat(back.data()).containsExactly("to the room");
				source("room-1/alice").close();
			}
		}

		@Test
		void clientThatReceivedNoEventYetCanStillResume() {
			String position;
			try (SseClient quiet = connect("/open?id=quiet")) {
				await().atMost(WAIT).until(() -> !quiet.lastEventId().isEmpty());
				position = quiet.lastEventId();
				assertThat(quiet.events()).isEmpty();
			}
			this.registry.send("quiet", "while away");
			try (SseClient back = SseClient.connect(this.port, "/open?id=quiet", Map.of("Last-Event-ID", position))) {
				await().atMost(WAIT).until(() -> !back.data().isEmpty());
				assertThat(back.data()).containsExactly("while away");
				source("quiet").close();
			}
		}

		@Test
		void sendingThroughAReplacedSourceFailsInsteadOfLosingTheEvent() {
			try (SseClient first = connect("/open?id=stale")) {
				EventSource stale = source("stale");
				try (SseClient second = connect("/open?id=stale")) {
					await().atMost(WAIT).until(() -> this.registry.get("stale").orElse(stale) != stale);
					assertThat(stale.send("to the old one")).isFalse();
					this.registry.get("stale").orElseThrow().close();
				}
			}
		}

		private static long position(String id) {
			return Long.parseLong(id.substring(id.indexOf('-') + 1));
		}

		private static boolean allDone(List<CompletableFuture<?>> futures) {
			return futures.stream().allMatch(CompletableFuture::isDone);
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

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.replay.enabled=true", "sisk.sse.duplicate-identifier=allow" })
	class SiblingTabs extends HttpTestSupport {

		@Test
		void whatOneTabIsSentIsNotReplayedToItsSiblingWhileTheStreamsMessagesAre() {
			try (SseClient first = connect("/open?id=tabs")) {
				await().atMost(WAIT).until(() -> this.registry.find("tabs"::equals).size() == 1);
				EventSource firstTab = this.registry.find("tabs"::equals).get(0);
				String position;
				try (SseClient second = connect("/open?id=tabs")) {
					await().atMost(WAIT).until(() -> second.lastEventId().contains("-"));
					position = second.lastEventId();
				}
				firstTab.send("only for the first tab");
				this.registry.send("tabs", "for every tab");
				await().atMost(WAIT).until(() -> first.data().contains("for every tab"));
				assertThat(first.data()).containsExactly("only for the first tab", "for every tab");
				try (SseClient back = SseClient.connect(this.port, "/open?id=tabs", Map.of("Last-Event-ID", position))) {
					await().atMost(WAIT).until(() -> !back.data().isEmpty());
					assertThat(back.data()).containsExactly("for every tab");
				}
				firstTab.close();
			}
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.replay.enabled=true", "sisk.sse.queue.max-events=3",
					"sisk.sse.replay.max-events=100" })
	class ReplayLargerThanTheQueue extends HttpTestSupport {

		@Test
		void missedEventsBeyondTheQueueLimitAreReplayedWithoutClosingTheStream() {
			String lastId;
			try (SseClient client = connect("/open?id=behind")) {
				source("behind");
				this.registry.send("behind", "seen");
				await().atMost(WAIT).until(() -> client.data().contains("seen"));
				lastId = client.lastEventId();
			}
			try (SseClient watcher = connect("/open?id=watcher")) {
				source("watcher");
				for (int i = 0; i < 10; i++) {
					this.registry.send("behind", "missed " + i);
				}
				// Delivered in order: once the watcher has its event, the 10 are behind the reconnecting client,
				// to be replayed. Were it to join first, they would reach it live, 10 into a queue of 3.
				this.registry.send("watcher", "after the missed ones");
				await().atMost(WAIT).until(() -> watcher.data().contains("after the missed ones"));
				source("watcher").close();
			}
			try (SseClient back = SseClient.connect(this.port, "/open?id=behind", Map.of("Last-Event-ID", lastId))) {
				await().atMost(WAIT).until(() -> back.data().size() == 10);
				assertThat(back.data()).startsWith("missed 0").endsWith("missed 9");
				EventSource resumed = source("behind");
				assertThat(resumed.isOpen()).isTrue();
				resumed.close();
			}
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.replay.enabled=true", "sisk.sse.replay.max-events=4" })
	class Bounds extends HttpTestSupport {

		@Test
		void theLogKeepsTheNewestEventsUpToItsCountAndConnectionsTakeNoPlaceInIt() {
			List<String> ids = sendAndReceive("counted", 6);
			// Reconnections record nothing: the 4 newest events are still there after them.
			String newest = ids.get(5);
			for (int i = 0; i < 5; i++) {
				assertThat(replayAfter("counted", newest, newest).events()).isEmpty();
			}
			// Held: e2 to e5, so a client that last received e1 can resume, one that last received e0 cannot.
			assertThat(replayAfter("counted", ids.get(0), newest).events()).extracting(SseEvent::type)
				.containsExactly("sisk-reset");
			assertThat(replayAfter("counted", ids.get(1), newest).data()).containsExactly("e2", "e3", "e4", "e5");
			source("counted").close();
		}

		private List<String> sendAndReceive(String stream, int count) {
			try (SseClient client = connect("/open?id=" + stream)) {
				source(stream);
				for (int i = 0; i < count; i++) {
					this.registry.send(stream, "e" + i);
				}
				await().atMost(WAIT).until(() -> client.events().size() == count);
				return client.events().stream().map(SseEvent::lastEventId).toList();
			}
		}

		private SseClient replayAfter(String stream, String lastId, String newest) {
			SseClient client = SseClient.connect(this.port, "/open?id=" + stream, Map.of("Last-Event-ID", lastId));
			// Every join ends with the client's new position, after what it is replayed (a blank event with an id).
			await().atMost(WAIT).until(() -> client.lastEventId().equals(newest) && client.events().isEmpty()
					|| client.lastEventId().equals(newest) && !lastId.equals(newest));
			client.close();
			return client;
		}

	}

	@Test
	void shutdownSpreadsTheClientsReconnectionsWithJitteredRetry() throws Exception {
		ConfigurableApplicationContext context = SpringApplication.run(SseTestApplication.class, "--server.port=0",
				"--sisk.sse.ping.enabled=false", "--sisk.sse.retry=2s");
		int port = context.getEnvironment().getProperty("local.server.port", Integer.class);
		List<RawSseSocket> sockets = new ArrayList<>();
		try {
			for (int i = 0; i < 20; i++) {
				sockets.add(RawSseSocket.open(port, "/open?id=j" + i));
			}
			await().atMost(HttpTestSupport.WAIT)
				.until(() -> context.getBean(EventSourceRegistry.class).size() == 20);
			context.close();
			Set<Long> retries = new HashSet<>();
			for (RawSseSocket socket : sockets) {
				Matcher last = Pattern.compile("retry: (\\d+)\n\n$|retry: (\\d+)\n\n(?=[^r]*$)").matcher(socket.readToEnd());
				long retry = -1;
				while (last.find()) {
					retry = Long.parseLong((last.group(1) != null) ? last.group(1) : last.group(2));
				}
				assertThat(retry).isBetween(2000L, 32000L);
				retries.add(retry);
			}
			assertThat(retries).as("different reconnection times").hasSizeGreaterThan(10);
		}
		finally {
			for (RawSseSocket socket : sockets) {
				socket.close();
			}
			context.close();
		}
	}

}
