package io.github.sisksse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The send core without a server: sources bound to in-memory sinks that can be slow, stuck or failing.
 */
class SendCoreTests {

	private final List<DefaultEventSourceRegistry> registries = new ArrayList<>();

	@AfterEach
	void destroy() {
		this.registries.forEach(DefaultEventSourceRegistry::destroy);
	}

	private DefaultEventSourceRegistry registry(EventSourceRegistry.Builder builder) {
		DefaultEventSourceRegistry registry = (DefaultEventSourceRegistry) builder.pingEnabled(false).build();
		this.registries.add(registry);
		return registry;
	}

	static TestSink bind(EventSource source, TestSink sink) {
		EventSourceConnection connection = EventSourceConnection.of(source).orElseThrow();
		connection.bind(sink);
		sink.connection = connection;
		connection.writable();
		return sink;
	}

	@Test
	void writerThatThrowsAnErrorEndsItsSourceCompletesTheResponseAndKeepsWriting() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().writerThreads(1));
		EventSource failingSource = registry.open("failing");
		TestSink failing = bind(failingSource, new TestSink().failWith(new StackOverflowError("boom")));
		assertThat(failingSource.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.SEND_FAILED);
		await().atMost(Duration.ofSeconds(5)).untilTrue(failing.completed);
		assertThat(registry.connectionCount()).isZero();
		// The one writer thread survived the Error and serves the next source.
		EventSource next = registry.open("next");
		TestSink healthy = bind(next, new TestSink());
		next.send("second");
		await().atMost(Duration.ofSeconds(5)).until(() -> healthy.text().contains("data: second\n\n"));
	}

	@Test
	void writerThatThrowsAnIOExceptionEndsItsSourceAndCompletesTheResponse() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder());
		EventSource source = registry.open();
		TestSink sink = bind(source, new TestSink().failWith(new IOException("Broken pipe")));
		source.send("lost");
		assertThat(source.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.SEND_FAILED);
		await().atMost(Duration.ofSeconds(5)).untilTrue(sink.completed);
		assertThat(source.send("after")).isFalse();
	}

	@Test
	void busyStreamDoesNotStarveAHundredQuietOnes() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder()
			.writerThreads(1)
			.queue(100_000, 1L << 30, OverflowPolicy.CLOSE));
		List<String> writes = new CopyOnWriteArrayList<>();
		EventSource busy = registry.open("busy");
		String big = "x".repeat(60_000);
		for (int i = 0; i < 500; i++) {
			busy.send(big);
		}
		bind(busy, new TestSink().log("busy", writes));
		List<TestSink> quiet = new ArrayList<>();
		for (int i = 0; i < 100; i++) {
			EventSource source = registry.open("quiet-" + i);
			quiet.add(bind(source, new TestSink().log("quiet", writes)));
			source.send("hello " + i);
		}
		await().atMost(Duration.ofSeconds(20))
			.until(() -> quiet.stream().allMatch((sink) -> sink.text().contains("data: hello")));
		// One batch per turn: the quiet streams did not wait for the busy stream's 30 MB to be written first.
		int lastQuiet = writes.lastIndexOf("quiet");
		long busyBytesBefore = writes.subList(0, lastQuiet).stream().filter((w) -> w.startsWith("busy"))
			.mapToLong((w) -> Long.parseLong(w.substring(5))).sum();
		assertThat(busyBytesBefore).isLessThan(500L * big.length() / 2);
	}

	@Test
	void clientThatTakesNoByteIsClosedAfterTheWriteTimeoutWhileOthersKeepReceiving() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder()
			.writerThreads(1)
			.writeTimeout(Duration.ofMillis(300)));
		EventSource stuck = registry.open("stuck");
		TestSink stuckSink = bind(stuck, new TestSink().stuck());
		EventSource healthy = registry.open("healthy");
		TestSink healthySink = bind(healthy, new TestSink());
		stuck.send("never taken");
		for (int i = 0; i < 50; i++) {
			healthy.send("event " + i);
		}
		await().atMost(Duration.ofSeconds(5)).until(() -> healthySink.text().contains("data: event 49\n\n"));
		assertThat(stuck.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.WRITE_TIMEOUT);
		await().atMost(Duration.ofSeconds(5)).untilTrue(stuckSink.completed);
		assertThat(healthy.isOpen()).isTrue();
	}

	@Test
	void bytesHandedToTheNetworkCountAgainstTheQueueUntilAccepted() {
		DefaultEventSourceRegistry registry = registry(
				EventSourceRegistry.builder().queue(1000, 10_000, OverflowPolicy.CLOSE));
		EventSource source = registry.open();
		assertThat(source.send("a".repeat(8_000))).isTrue();
		// Delivered to its queue first, so that the stuck sink takes it with the opening line in one batch.
		await().atMost(Duration.ofSeconds(5)).until(() -> source.info().queuedEvents() == 1);
		TestSink sink = bind(source, new TestSink().stuck());
		await().atMost(Duration.ofSeconds(5)).until(() -> sink.text().contains("aaa"));
		// The 8 KB batch is in flight, not yet accepted: an empty queue still takes one event, but no more.
		assertThat(source.send("b".repeat(1_000))).isTrue();
		assertThat(source.send("c".repeat(1_500))).isTrue();
		assertThat(source.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.QUEUE_OVERFLOW);
	}

	@Test
	void resumesWhenTheClientTakesBytesAgain() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder());
		EventSource source = registry.open();
		TestSink sink = bind(source, new TestSink().stuck());
		source.send("one");
		await().atMost(Duration.ofSeconds(5)).until(() -> sink.writes.get() > 0);
		source.send("two");
		sink.stuck = false;
		sink.connection.writable();
		await().atMost(Duration.ofSeconds(5)).until(() -> sink.text().contains("data: two\n\n"));
		assertThat(sink.text()).containsSubsequence("data: one\n\n", "data: two\n\n");
	}

	@Test
	void sourceNoHandlerReturnsEndsAfterTheBindDeadlineAndFreesItsPlace() {
		DefaultEventSourceRegistry registry = registry(
				EventSourceRegistry.builder().bindTimeout(Duration.ofMillis(200)).maxConnections(1, null));
		EventSource orphan = registry.open("orphan");
		assertThat(orphan.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.ERROR);
		assertThat(registry.connectionCount()).isZero();
		assertThat(registry.open("next").isOpen()).isTrue();
	}

	@Test
	void concurrentReplacementsNeverExceedTheConnectionLimit() throws Exception {
		int limit = 5;
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().maxConnections(limit, null));
		for (int i = 0; i < limit; i++) {
			registry.open("user-" + i);
		}
		AtomicInteger highest = new AtomicInteger();
		AtomicBoolean done = new AtomicBoolean();
		Thread watcher = new Thread(() -> {
			while (!done.get()) {
				highest.accumulateAndGet(registry.connectionCount(), Math::max);
			}
		});
		watcher.start();
		ExecutorService threads = Executors.newFixedThreadPool(8);
		CountDownLatch start = new CountDownLatch(1);
		AtomicInteger refused = new AtomicInteger();
		for (int t = 0; t < 8; t++) {
			threads.execute(() -> {
				try {
					start.await();
				}
				catch (InterruptedException ex) {
					return;
				}
				for (int i = 0; i < 2000; i++) {
					try {
						registry.open("user-" + (i % limit));
					}
					catch (EventSourceRejectedException ex) {
						refused.incrementAndGet();
					}
				}
			});
		}
		start.countDown();
		threads.shutdown();
		assertThat(threads.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
		done.set(true);
		watcher.join();
		assertThat(highest.get()).isLessThanOrEqualTo(limit);
		assertThat(registry.connectionCount()).isEqualTo(limit);
		assertThat(registry.size()).isEqualTo(limit);
		assertThat(refused.get()).isZero();
	}

	@Test
	void gracefulCloseOfAClientThatStoppedReadingEndsAtTheWriteTimeout() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().writeTimeout(Duration.ofMillis(300)));
		EventSource source = registry.open("stalled");
		TestSink sink = bind(source, new TestSink().stuck());
		source.send("not taken");
		source.close();
		assertThat(source.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.CLOSED_BY_SERVER);
		await().atMost(Duration.ofSeconds(5)).untilTrue(sink.completed);
	}

	@Test
	void aReplayThatArrivesAfterTheCloseIsNotWrittenAfterTheCloseEvent() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().closeEvent("close", "bye"));
		DefaultEventSource source = (DefaultEventSource) registry.open("late");
		source.close();
		await().atMost(Duration.ofSeconds(5)).until(() -> registry.connectionCount() == 0);
		byte[] frame = "data: replayed\n\n".getBytes(StandardCharsets.UTF_8);
		source.join(List.of(new Publication(1, 1, 1, "e", null, frame, new Publication.All(), 0)), null,
				"id: e-1\n\n".getBytes(StandardCharsets.UTF_8), 1, 2);
		TestSink sink = bind(source, new TestSink());
		await().atMost(Duration.ofSeconds(5)).untilTrue(sink.completed);
		assertThat(sink.text()).endsWith("event: close\ndata: bye\n\n").doesNotContain("replayed");
	}

	@Test
	void destroyCompletesTheResponsesOfClientsThatStoppedReading() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().writeTimeout(Duration.ofMinutes(5)));
		EventSource source = registry.open("stalled");
		TestSink sink = bind(source, new TestSink().stuck());
		source.send("not taken");
		await().atMost(Duration.ofSeconds(5)).until(() -> sink.writes.get() > 0);
		registry.destroy();
		assertThat(source.whenClosed()).isCompletedWithValue(CloseReason.SHUTDOWN);
		assertThat(sink.completed).isTrue();
	}

	@Test
	void aReconnectingClientMayTakeOverItsPlaceButNotExceedItsOwnLimit() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().maxConnections(1, null));
		EventSource first = registry.open("user");
		EventSource second = registry.open("user");
		assertThat(first.isOpen()).isFalse();
		assertThat(second.isOpen()).isTrue();
		assertThat(registry.connectionCount()).isEqualTo(1);
		org.assertj.core.api.Assertions.assertThatExceptionOfType(EventSourceRejectedException.class)
			.isThrownBy(() -> registry.open("someone-else"))
			.withMessageContaining("sisk.sse.max-connections=1");
	}

	@Test
	void sendWithAnEventNameWritesThatEvent() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder());
		EventSource source = registry.open();
		TestSink sink = bind(source, new TestSink());
		assertThat(source.send("greeting", "hi")).isTrue();
		await().atMost(Duration.ofSeconds(5)).until(() -> sink.text().contains("event: greeting\ndata: hi\n\n"));
		org.assertj.core.api.Assertions.assertThatIllegalArgumentException().isThrownBy(() -> source.send("", "x"));
		org.assertj.core.api.Assertions.assertThatIllegalArgumentException().isThrownBy(() -> source.send("a\nb", "x"));
	}

	@Test
	void emptyCloseEventNameMeansNoCloseEvent() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().closeEvent("", "bye"));
		EventSource source = registry.open();
		TestSink sink = bind(source, new TestSink());
		source.close();
		await().atMost(Duration.ofSeconds(5)).untilTrue(sink.completed);
		assertThat(sink.text()).doesNotContain("event:").doesNotContain("bye");
	}

	/**
	 * An in-memory sink: ready, stuck (takes the bytes but says it is not ready, and never calls back), or
	 * failing.
	 */
	static final class TestSink implements EventSourceConnection.Sink {

		final StringBuffer received = new StringBuffer();

		final AtomicBoolean completed = new AtomicBoolean();

		final AtomicInteger writes = new AtomicInteger();

		volatile boolean stuck;

		@Nullable Throwable failure;

		@Nullable String name;

		@Nullable List<String> log;

		EventSourceConnection connection;

		TestSink failWith(Throwable failure) {
			this.failure = failure;
			return this;
		}

		TestSink stuck() {
			this.stuck = true;
			return this;
		}

		TestSink log(String name, List<String> log) {
			this.name = name;
			this.log = log;
			return this;
		}

		String text() {
			return this.received.toString();
		}

		@Override
		public boolean write(byte @Nullable [] bytes) throws IOException {
			if (this.failure instanceof IOException ex) {
				throw ex;
			}
			if (this.failure instanceof Error error) {
				throw error;
			}
			if (bytes == null) {
				return !this.stuck;
			}
			this.writes.incrementAndGet();
			this.received.append(new String(bytes, StandardCharsets.UTF_8));
			if (this.log != null) {
				this.log.add("quiet".equals(this.name) ? "quiet" : this.name + ":" + bytes.length);
			}
			return !this.stuck;
		}

		@Override
		public void complete() {
			this.completed.set(true);
		}

	}

}
