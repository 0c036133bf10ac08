package io.github.sisksse;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.http.codec.ServerSentEvent;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Races around the ordered log found in review, each reproduced: a send and a close before the join, application
 * ids per stream, an application predicate during a replay (under no lock, and failing), and the send of a
 * connection replaced while it is on its way.
 */
@org.junit.jupiter.api.Timeout(60)
class LogRaceTests {

	private final List<DefaultEventSourceRegistry> registries = new ArrayList<>();

	@AfterEach
	void destroy() {
		RequestContextHolder.resetRequestAttributes();
		this.registries.forEach(DefaultEventSourceRegistry::destroy);
	}

	private DefaultEventSourceRegistry registry(EventSourceRegistry.Builder builder) {
		DefaultEventSourceRegistry registry = (DefaultEventSourceRegistry) builder.pingEnabled(false)
			.replay(10_000, 16 << 20, Duration.ofMinutes(5), "sisk-reset")
			.build();
		this.registries.add(registry);
		return registry;
	}

	private static SendCoreTests.TestSink bind(EventSource source) {
		SendCoreTests.TestSink sink = new SendCoreTests.TestSink();
		EventSourceConnection connection = EventSourceConnection.of(source).orElseThrow();
		connection.bind(sink);
		sink.connection = connection;
		connection.writable();
		return sink;
	}

	private static void lastEventId(String id) {
		MockHttpServletRequest request = new MockHttpServletRequest("GET", "/open");
		request.addHeader("Last-Event-ID", id);
		RequestContextHolder.setRequestAttributes(new ServletRequestAttributes(request));
	}

	/** A send and a close from onOpen (or any thread that finds the source before its join) lose the send. */
	@Test
	void sendThenCloseBeforeTheJoinIsProcessedIsDelivered() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().listener(new EventSourceListener() {
			@Override
			public void onOpen(EventSource source) {
				source.send("bye");
				source.close();
				// Pacing: the dispatcher reaches the close before open() queues the join.
				sleep(300);
			}
		}));
		EventSource source = registry.open("s");
		SendCoreTests.TestSink sink = bind(source);
		assertThat(source.whenClosed()).succeedsWithin(Duration.ofSeconds(5));
		await().atMost(Duration.ofSeconds(5)).untilTrue(sink.completed);
		assertThat(sink.text()).contains("data: bye");
	}

	/** Own ids are looked up across every stream: another stream's equal id moves the resume point. */
	@Test
	void ownIdResumeIsPerStream() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder());
		EventSource a = registry.open("a");
		SendCoreTests.TestSink aSink = bind(a);
		EventSource b = registry.open("b");
		SendCoreTests.TestSink bSink = bind(b);
		registry.send("a", ServerSentEvent.builder("a1").id("1").build());
		registry.send("a", ServerSentEvent.builder("a2").id("2").build());
		registry.send("b", ServerSentEvent.builder("b1").id("1").build());
		await().atMost(Duration.ofSeconds(5)).until(() -> aSink.text().contains("a2") && bSink.text().contains("b1"));
		// The client of "a" dropped after "a1" and reconnects with its id.
		lastEventId("1");
		EventSource again = registry.open("a");
		SendCoreTests.TestSink againSink = bind(again);
		await().atMost(Duration.ofSeconds(5)).until(() -> againSink.text().contains("data: a2"));
		assertThat(againSink.text()).doesNotContain("a1").doesNotContain("b1");
	}

	/** The predicate of broadcast(data, predicate) runs under the PublicationLog monitor during a replay. */
	@Test
	void predicateDuringReplayDoesNotDeadlockWithASender() throws Exception {
		Object appLock = new Object();
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder());
		EventSource a = registry.open("a");
		SendCoreTests.TestSink aSink = bind(a);
		registry.send("a", "first");
		await().atMost(Duration.ofSeconds(5)).until(() -> aSink.text().contains("first"));
		Matcher m = Pattern.compile("id: (\\w+-\\d+)\n\ndata: first").matcher(aSink.text());
		if (!m.find()) {
			m = Pattern.compile("id: (\\w+-\\d+)\ndata: first").matcher(aSink.text());
			assertThat(m.find()).as(aSink.text()).isTrue();
		}
		String firstId = m.group(1);
		registry.broadcast("matched", (id) -> {
			synchronized (appLock) {
				return true;
			}
		});
		await().atMost(Duration.ofSeconds(5)).until(() -> aSink.text().contains("matched"));
		CountDownLatch held = new CountDownLatch(1);
		CompletableFuture<Integer> sender = CompletableFuture.supplyAsync(() -> {
			synchronized (appLock) {
				held.countDown();
				// Pacing: the reconnecting client's replay runs the predicate meanwhile.
				sleep(500);
				return registry.send("other", "x");
			}
		});
		held.await();
		lastEventId(firstId);
		EventSource again = registry.open("a");
		bind(again);
		try {
			sender.get(5, TimeUnit.SECONDS);
		}
		catch (java.util.concurrent.TimeoutException ex) {
			long[] ids = ManagementFactory.getThreadMXBean().findMonitorDeadlockedThreads();
			StringBuilder dump = new StringBuilder();
			if (ids != null) {
				for (ThreadInfo info : ManagementFactory.getThreadMXBean().getThreadInfo(ids, true, true)) {
					dump.append(info);
				}
			}
			this.registries.remove(registry); // its destroy would block on the log's monitor
			throw new AssertionError("deadlock:\n" + dump, ex);
		}
	}

	/** A predicate that throws during a replay loses the join: the reconnected source never receives anything. */
	@Test
	void predicateThatThrowsDuringReplayDoesNotSilenceTheStream() {
		java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean();
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder());
		EventSource a = registry.open("a");
		SendCoreTests.TestSink aSink = bind(a);
		registry.send("a", "first");
		registry.broadcast("matched", (id) -> {
			if (armed.get()) {
				throw new IllegalStateException("app predicate failed");
			}
			return true;
		});
		await().atMost(Duration.ofSeconds(5)).until(() -> aSink.text().contains("matched"));
		Matcher m = Pattern.compile("id: (\\w+-\\d+)\ndata: first").matcher(aSink.text());
		assertThat(m.find()).as(aSink.text()).isTrue();
		armed.set(true);
		lastEventId(m.group(1));
		EventSource again = registry.open("a");
		SendCoreTests.TestSink againSink = bind(again);
		registry.send("a", "later");
		await().atMost(Duration.ofSeconds(5)).until(() -> againSink.text().contains("data: later"));
	}

	/** An Error while delivering one entry (here from a predicate) must not block every later one. */
	@Test
	void anErrorWhileDeliveringOneEntryDoesNotBlockTheNextOnes() {
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder());
		EventSource a = registry.open("a");
		SendCoreTests.TestSink aSink = bind(a);
		registry.broadcast("never", (id) -> {
			if (Thread.currentThread().getName().startsWith("sisk-sse-dispatcher")) {
				throw new StackOverflowError("deep");
			}
			return true;
		});
		registry.send("a", "after");
		await().atMost(Duration.ofSeconds(5)).until(() -> aSink.text().contains("data: after"));
		assertThat(aSink.text()).doesNotContain("never");
	}

	/** A log that feeds its reader on its own thread, later, like a shared one. */
	static final class SlowLog implements EventLog {

		final java.util.concurrent.LinkedBlockingQueue<Object[]> fed = new java.util.concurrent.LinkedBlockingQueue<>();

		volatile boolean held;

		long last;

		Reader reader;

		@Override
		public void start(Reader reader, java.util.function.Supplier<java.util.Map<String, Integer>> presence) {
			this.reader = reader;
			reader.epoch("e");
			Thread feeder = new Thread(() -> {
				try {
					while (true) {
						Object[] next = this.fed.take();
						while (this.held) {
							Thread.sleep(10);
						}
						this.reader.entry((Long) next[0], (Entry) next[1]);
					}
				}
				catch (InterruptedException ex) {
				}
			});
			feeder.setDaemon(true);
			feeder.start();
		}

		@Override
		public synchronized void append(Entry entry) {
			this.fed.add(new Object[] { ++this.last, entry });
		}

		@Override
		public void stop() {
		}

	}

	/** A send of the replaced connection reaches its replacement by replay, but not live. */
	@Test
	void sendOfTheReplacedConnectionReachesItsReplacementWhateverTheTiming() {
		SlowLog log = new SlowLog();
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().eventLog(log));
		EventSource a = registry.open("a");
		SendCoreTests.TestSink aSink = bind(a);
		registry.send("a", "first");
		await().atMost(Duration.ofSeconds(5)).until(() -> aSink.text().contains("data: first"));
		log.held = true;
		a.send("mine"); // position 2, on its way
		lastEventId("e-1"); // the client got "first" only, and reconnects
		EventSource again = registry.open("a");
		SendCoreTests.TestSink againSink = bind(again);
		// Joined: its position is written.
		await().atMost(Duration.ofSeconds(5)).until(() -> againSink.text().contains("id: e-1\n\n"));
		log.held = false;
		registry.send("a", "after");
		await().atMost(Duration.ofSeconds(5)).until(() -> againSink.text().contains("data: after"));
		assertThat(againSink.text()).contains("data: mine");
	}

	/** Control: the same send, delivered before the reconnect, is replayed to the replacement. */
	@Test
	void controlSendOfTheReplacedConnectionDeliveredBeforeTheReconnectIsReplayed() {
		SlowLog log = new SlowLog();
		DefaultEventSourceRegistry registry = registry(EventSourceRegistry.builder().eventLog(log));
		EventSource a = registry.open("a");
		SendCoreTests.TestSink aSink = bind(a);
		registry.send("a", "first");
		await().atMost(Duration.ofSeconds(5)).until(() -> aSink.text().contains("data: first"));
		a.send("mine");
		await().atMost(Duration.ofSeconds(5)).until(() -> aSink.text().contains("data: mine"));
		lastEventId("e-1");
		EventSource again = registry.open("a");
		SendCoreTests.TestSink againSink = bind(again);
		registry.send("a", "after");
		await().atMost(Duration.ofSeconds(5)).until(() -> againSink.text().contains("data: after"));
		assertThat(againSink.text()).contains("data: mine");
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
