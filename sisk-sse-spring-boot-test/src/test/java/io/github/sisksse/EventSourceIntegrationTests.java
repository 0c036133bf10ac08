package io.github.sisksse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.sisksse.test.RawSseSocket;
import io.github.sisksse.test.SseClient;
import io.github.sisksse.test.SseEvent;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.http.codec.ServerSentEvent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * Every behaviour of Sisk's SSE guide (S1-S14), over real HTTP on a random port, read by a real SSE client.
 */
@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "spring.mvc.async.request-timeout=300ms", "sisk.sse.close-event.name=close",
				"sisk.sse.close-event.data=bye", "sisk.sse.queue.max-events=100000", "sisk.sse.queue.max-bytes=64MB" })
@ExtendWith(OutputCaptureExtension.class)
class EventSourceIntegrationTests extends HttpTestSupport {

	@org.springframework.beans.factory.annotation.Autowired
	SseTestApplication.EventRecorder recorder;

	private final List<AutoCloseable> clients = new ArrayList<>();

	@AfterEach
	void closeEverything() throws Exception {
		this.registry.all().forEach(EventSource::close);
		this.controller.anonymous.values().forEach(EventSource::close);
		for (AutoCloseable client : this.clients) {
			client.close();
		}
		await().atMost(WAIT).until(() -> this.registry.size() == 0);
	}

	// S1, S2, S3, S4

	@Test
	void sendsHelloWorldThenClosesWithTheCloseEvent() {
		SseClient client = connect("/hello");
		await().atMost(WAIT).until(client::isEnded);
		assertThat(client.events()).extracting(SseEvent::type, SseEvent::data)
			.containsExactly(org.assertj.core.groups.Tuple.tuple("message", "Hello, world!"),
					org.assertj.core.groups.Tuple.tuple("close", "bye"));
	}

	@Test
	void closeWritesQueuedEventsBeforeCompletingAndReportsClosedByServer() {
		SseClient client = connect("/open?id=closing");
		EventSource source = source("closing");
		for (int i = 0; i < 100; i++) {
			source.send("event " + i);
		}
		source.close();
		assertThat(source.isOpen()).isFalse();
		assertThat(source.send("too late")).isFalse();
		await().atMost(WAIT).until(() -> this.registry.get("closing").isEmpty());
		assertThat(source.whenClosed()).succeedsWithin(WAIT).isEqualTo(CloseReason.CLOSED_BY_SERVER);
		await().atMost(WAIT).until(client::isEnded);
		assertThat(client.data()).hasSize(101).startsWith("event 0").endsWith("event 99", "bye");
	}

	// S5, S14: headers at open

	@Test
	void responseHeadersReachTheClientAtOpenBeforeAnyEvent() {
		SseClient client = connect("/headers");
		assertThat(client.status()).isEqualTo(200);
		assertThat(client.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type.replace(" ", "")).isEqualToIgnoringCase("text/event-stream;charset=UTF-8"));
		assertThat(client.headers().firstValue("X-Accel-Buffering")).hasValue("no");
		assertThat(client.headers().firstValue("Header-Key")).hasValue("Header-value");
		assertThat(client.headers().allValues("Cache-Control")).containsExactly("no-store");
		assertThat(client.events()).isEmpty();
	}

	@Test
	void responseEntityStatusAndHeadersAreAppliedBeforeTheStreamStarts() {
		SseClient client = connect("/entity?id=entity");
		assertThat(client.status()).isEqualTo(202);
		assertThat(client.headers().firstValue("X-Entity")).hasValue("yes");
		assertThat(client.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type).startsWith("text/event-stream"));
		source("entity").send("through the entity");
		await().atMost(WAIT).until(() -> client.data().contains("through the entity"));
	}

	@Test
	void proxyFriendlyHeadersAreSentByDefault() {
		SseClient client = connect("/open?id=plain");
		assertThat(client.headers().allValues("Cache-Control")).containsExactly("no-cache");
		assertThat(client.headers().firstValue("X-Accel-Buffering")).hasValue("no");
	}

	@Test
	void headerAfterTheFirstSendFailsClearlyAndLosesNothing() {
		SseClient client = connect("/header-after-send?id=late-header");
		assertThat(this.controller.failures.get("late-header")).isInstanceOf(IllegalStateException.class)
			.hasMessageContaining("Too-Late")
			.hasMessageContaining("before the first send");
		assertThat(client.headers().firstValue("Too-Late")).isEmpty();
		await().atMost(WAIT).until(() -> client.data().contains("first"));
	}

	@Test
	void headerAfterTheResponseStartedFailsClearly() {
		connect("/open?id=started");
		assertThatIllegalStateException().isThrownBy(() -> source("started").header("X-Late", "1"))
			.withMessageContaining("already written");
	}

	// S6, S9

	@Test
	void identifiedSourceIsFoundLaterAndReceivesWhatIsSentToIt() {
		SseClient client = connect("/open?id=my-index-connection");
		this.registry.get("my-index-connection").ifPresent((evs) -> evs.send("Hello again!"));
		await().atMost(WAIT).until(() -> client.data().contains("Hello again!"));
	}

	@Test
	void controllerMayReturnTheEmitterInstead() {
		SseClient client = connect("/emitter?id=by-emitter");
		source("by-emitter").send("via emitter");
		await().atMost(WAIT).until(() -> client.data().contains("via emitter"));
	}

	// S10, S11, S12

	@Test
	void findSelectsLiveSourcesByIdentifierForABroadcast() {
		SseClient one = connect("/open?id=my-connection-1");
		SseClient two = connect("/open?id=my-connection-2");
		SseClient other = connect("/open?id=other-1");
		List<EventSource> found = this.registry.find((id) -> id.startsWith("my-connection-"));
		assertThat(found).extracting(EventSource::identifier)
			.containsExactlyInAnyOrder("my-connection-1", "my-connection-2");
		found.forEach((e) -> e.send("broadcast to my-connection-*"));
		await().atMost(WAIT).until(() -> one.data().contains("broadcast to my-connection-*")
				&& two.data().contains("broadcast to my-connection-*"));
		this.registry.get("other-1").orElseThrow().send("only other");
		await().atMost(WAIT).until(() -> other.data().contains("only other"));
		assertThat(other.data()).doesNotContain("broadcast to my-connection-*");
	}

	@Test
	void allListsOnlyLiveIdentifiedSources() {
		connect("/open?tag=nameless");
		connect("/open?id=a");
		connect("/open?id=b");
		assertThat(this.registry.all()).extracting(EventSource::identifier).containsExactlyInAnyOrder("a", "b");
		assertThat(this.registry.size()).isEqualTo(2);
		source("a").close();
		// Closed, so no longer found; counted until what was sent before the close is delivered.
		assertThat(this.registry.all()).extracting(EventSource::identifier).containsExactly("b");
		await().atMost(WAIT).until(() -> this.registry.size() == 1);
	}

	// S7, S8

	@Test
	void waitForFailClosesAnIdleSourceAndEverySendRestartsTheCountdown() throws Exception {
		SseClient client = connect("/open?id=idle");
		EventSource source = source("idle");
		CompletableFuture<CloseReason> resumed = source.waitForFail(Duration.ofMillis(500));
		for (int i = 0; i < 6; i++) {
			Thread.sleep(200); // pacing: each send comes before the 500 ms timeout would expire
			assertThat(source.send("tick " + i)).isTrue();
		}
		assertThat(source.isOpen()).as("open after 1.2 s of sends every 200 ms").isTrue();
		assertThat(resumed).succeedsWithin(WAIT).isEqualTo(CloseReason.IDLE_TIMEOUT);
		assertThat(this.registry.get("idle")).isEmpty();
		await().atMost(WAIT).until(client::isEnded);
		assertThat(client.data()).endsWith("tick 5", "bye");
	}

	@Test
	void keepAliveCancelsTheWaitForFailTimeout() {
		connect("/open?id=kept");
		EventSource source = source("kept");
		source.waitForFail(Duration.ofMillis(200));
		CompletableFuture<CloseReason> ended = source.keepAlive();
		await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(source::isOpen);
		assertThat(ended).isNotDone();
	}

	// S13, S14: pings

	@Test
	void pingsAnIdleStreamWithCommentsByDefault() {
		SseClient client = connect("/open?id=pinged");
		source("pinged").withPing((ping) -> ping.interval(Duration.ofMillis(100)).start());
		await().atMost(WAIT).until(() -> client.comments().stream().filter("ping"::equals).count() >= 3);
		assertThat(client.events()).isEmpty();
	}

	@Test
	void pingsWithADataMessageAsSisk() {
		SseClient client = connect("/open?id=sisk-ping");
		source("sisk-ping").withPing((ping) -> {
			ping.dataMessage("ping-message");
			ping.interval(Duration.ofMillis(100));
			ping.start();
		});
		await().atMost(WAIT).until(() -> client.data().stream().filter("ping-message"::equals).count() >= 2);
	}

	@Test
	void noPingIsSentWhileDataFlows() throws Exception {
		SseClient client = connect("/open?id=busy");
		EventSource source = source("busy");
		source.withPing((ping) -> ping.interval(Duration.ofMillis(400)).start());
		for (int i = 0; i < 20; i++) {
			source.send("data " + i);
			Thread.sleep(50); // pacing: data every 50 ms, well within the ping interval
		}
		await().atMost(WAIT).until(() -> client.data().contains("data 19"));
		assertThat(client.comments()).doesNotContain("ping");
		await().atMost(WAIT).until(() -> client.comments().contains("ping"));
	}

	@Test
	void vanishedClientIsDroppedByAFailedPingWithoutErrorLogs(CapturedOutput output) throws Exception {
		int logged = output.getAll().length();
		RawSseSocket socket = RawSseSocket.open(this.port, "/open?id=vanishing");
		assertThat(socket.head()).startsWith("HTTP/1.1 200");
		EventSource source = source("vanishing");
		source.withPing((ping) -> ping.interval(Duration.ofMillis(200)).start());
		socket.vanish();
		await().atMost(WAIT).until(() -> this.registry.get("vanishing").isEmpty());
		assertThat(source.whenClosed()).succeedsWithin(WAIT).isIn(CloseReason.PING_FAILED, CloseReason.CLIENT_GONE);
		assertThat(output.getAll().substring(logged)).doesNotContain("ERROR").doesNotContain("WARN")
			.doesNotContain("Exception");
	}

	@Test
	void failedSendEndsTheSourceAndSendReportsIt() throws Exception {
		RawSseSocket socket = RawSseSocket.open(this.port, "/open?id=send-fails");
		EventSource source = source("send-fails");
		source.withPing(PingPolicy::stop);
		socket.vanish();
		await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(() -> !source.send("anyone there?"));
		assertThat(source.whenClosed()).succeedsWithin(WAIT).isIn(CloseReason.SEND_FAILED, CloseReason.CLIENT_GONE);
		assertThat(this.registry.get("send-fails")).isEmpty();
	}

	// Beyond the 30 s container default

	@Test
	void streamOutlivesTheAsyncRequestTimeout() {
		SseClient client = connect("/open?id=long-lived");
		EventSource source = source("long-lived");
		await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> !client.isEnded());
		assertThat(source.isOpen()).isTrue();
		source.send("still here");
		await().atMost(WAIT).until(() -> client.data().contains("still here"));
	}

	@Test
	void sourceWhoseHandlerFailedIsNotLeftRegistered() throws Exception {
		try (RawSseSocket socket = RawSseSocket.open(this.port, "/open-and-fail?id=orphan")) {
			assertThat(socket.head()).startsWith("HTTP/1.1 500");
		}
		assertThat(this.registry.get("orphan")).isEmpty();
	}

	// Duplicate identifiers: the default replaces, as Sisk does

	@Test
	void newSourceWithTheSameIdentifierReplacesTheOlderOne() {
		SseClient first = connect("/open?id=twin");
		EventSource older = source("twin");
		SseClient second = connect("/open?id=twin");
		assertThat(older.whenClosed()).succeedsWithin(WAIT).isEqualTo(CloseReason.REPLACED);
		await().atMost(WAIT).until(first::isEnded);
		assertThat(first.data()).containsExactly("bye");
		EventSource newer = source("twin");
		assertThat(newer).isNotSameAs(older);
		newer.send("to the newer one");
		await().atMost(WAIT).until(() -> second.data().contains("to the newer one"));
		assertThat(this.registry.size()).isEqualTo(1);
	}

	// Payloads

	@Test
	void objectsAreSerialisedByTheMvcMessageConverters() {
		SseClient client = connect("/open?id=json");
		source("json").send(new Greeting("hello", 3));
		await().atMost(WAIT).until(() -> !client.data().isEmpty());
		assertThat(client.data().get(0)).isEqualTo("{\"text\":\"hello\",\"count\":3}");
	}

	@Test
	void everyEventGetsAnIdThatIncreasesPerStream() {
		SseClient client = connect("/open?tag=numbered");
		EventSource source = await().atMost(WAIT).until(() -> this.controller.anonymous.get("numbered"),
				(s) -> s != null);
		for (int i = 1; i <= 105; i++) {
			source.send("n" + i);
		}
		this.registry.broadcast("to all");
		await().atMost(WAIT).until(() -> client.events().size() == 106);
		// Each event's position in the registry's log, after the log's epoch.
		List<Long> positions = client.events()
			.stream()
			.map((event) -> Long.parseLong(event.lastEventId().substring(event.lastEventId().indexOf('-') + 1)))
			.toList();
		assertThat(positions).isSorted().doesNotHaveDuplicates();
		assertThat(client.events()).extracting(SseEvent::lastEventId)
			.allMatch((id) -> id.startsWith(client.events().get(0).lastEventId().split("-")[0] + "-"));
	}

	@Test
	void multiLineDataArrivesAsOneMessage() {
		SseClient client = connect("/open?id=lines");
		source("lines").send("one\ntwo\r\nthree\r four");
		await().atMost(WAIT).until(() -> !client.data().isEmpty());
		assertThat(client.data()).containsExactly("one\ntwo\nthree\n four");
	}

	@Test
	void fullEventCarriesNameIdRetryAndComment() {
		SseClient client = connect("/open?id=full");
		source("full").send(ServerSentEvent.builder("payload")
			.id("42")
			.event("update")
			.retry(Duration.ofSeconds(2))
			.comment("note")
			.build());
		await().atMost(WAIT).until(() -> !client.events().isEmpty());
		assertThat(client.events()).containsExactly(new SseEvent("update", "payload", "42"));
		assertThat(client.retry()).isEqualTo(2000L);
		assertThat(client.comments()).contains("note");
	}

	// Bad input

	@Test
	void lineBreaksInFramingFieldsAreRefusedAndNothingMalformedIsWritten() {
		SseClient client = connect("/open?id=strict");
		EventSource source = source("strict");
		source.send("before");
		// Spring's own ServerSentEvent builder already refuses line breaks in an event name or id.
		assertThatIllegalArgumentException()
			.isThrownBy(() -> source.send(ServerSentEvent.builder("x").event("evil\ndata: injected").build()))
			.withMessageContaining("illegal character");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> source.send(ServerSentEvent.builder("x").id("1\r2").build()))
			.withMessageContaining("illegal character");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> source.send(ServerSentEvent.builder("x").comment("a\nb").build()))
			.withMessageContaining("Comment");
		assertThatIllegalArgumentException().isThrownBy(() -> source.header("X-A\n", "b"))
			.withMessageContaining("Header name");
		assertThatIllegalArgumentException().isThrownBy(() -> source.header("X-A", "b\r\nX-B: c"))
			.withMessageContaining("Header value");
		source.send("after");
		await().atMost(WAIT).until(() -> client.data().contains("after"));
		assertThat(client.events()).extracting(SseEvent::data).containsExactly("before", "after");
		assertThat(source.isOpen()).isTrue();
	}

	@Test
	void nullIdentifierIsRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.registry.open(nullString()))
			.withMessageContaining("identifier");
	}

	@Test
	void completionHookFiresExactlyOnceWhateverEndsTheSource() throws Exception {
		// Streams of earlier tests may still be ending: count from when they are gone.
		await().atMost(WAIT).until(() -> this.registry.connectionCount() == 0);
		for (int round = 0; round < 20; round++) {
			String id = "once-" + round;
			RawSseSocket socket = RawSseSocket.open(this.port, "/open?id=" + id);
			EventSource source = source(id);
			AtomicInteger calls = new AtomicInteger();
			source.whenClosed().thenRun(calls::incrementAndGet);
			// Four enders race: the server's close, an idle timeout, a vanished client and a shutdown-like end.
			CountDownLatch go = new CountDownLatch(1);
			List<CompletableFuture<?>> enders = List.of(
					CompletableFuture.runAsync(() -> after(go, source::close)),
					CompletableFuture.runAsync(() -> after(go, () -> source.waitForFail(Duration.ofMillis(1)))),
					CompletableFuture.runAsync(() -> after(go, () -> {
						try {
							socket.vanish();
						}
						catch (java.io.IOException ex) {
							throw new IllegalStateException(ex);
						}
					})),
					CompletableFuture.runAsync(() -> after(go, () -> ((DefaultEventSource) source)
						.end(CloseReason.SHUTDOWN, false, false, null, null))));
			go.countDown();
			CompletableFuture.allOf(enders.toArray(new CompletableFuture<?>[0])).get(10, TimeUnit.SECONDS);
			assertThat(source.whenClosed()).succeedsWithin(WAIT).isIn(CloseReason.CLOSED_BY_SERVER,
					CloseReason.IDLE_TIMEOUT, CloseReason.CLIENT_GONE, CloseReason.SHUTDOWN, CloseReason.SEND_FAILED,
					CloseReason.PING_FAILED);
			await().atMost(WAIT).until(() -> calls.get() == 1);
			// Its place is released exactly once: never below zero, whichever enders ran.
			assertThat(this.registry.connectionCount()).isZero();
		}
		// One close event per source, and every place released exactly once.
		await().atMost(WAIT).until(() -> closesOfOnce().size() >= 20);
		assertThat(closesOfOnce()).hasSize(20);
	}

	private List<EventSourceClosedEvent> closesOfOnce() {
		return this.recorder.events.stream()
			.filter(EventSourceClosedEvent.class::isInstance)
			.map(EventSourceClosedEvent.class::cast)
			.filter((event) -> String.valueOf(event.getEventSource().identifier()).startsWith("once-"))
			.toList();
	}

	private static void after(CountDownLatch go, Runnable action) {
		awaitLatch(go);
		action.run();
	}

	// Thread safety

	@Test
	void concurrentSendersAndPingsNeverInterleaveAndKeepPerThreadOrder() throws Exception {
		SseClient client = connect("/open?id=crowd");
		EventSource source = source("crowd");
		source.withPing((ping) -> ping.interval(Duration.ofMillis(1)).start());
		int threads = 8;
		int perThread = 1000;
		runSenders(source, threads, perThread, null);
		await().atMost(Duration.ofSeconds(20)).until(() -> client.events().size() == threads * perThread);
		assertIntactAndOrdered(client.events(), threads, true);
	}

	@Test
	void closeRacingWithSendersKeepsEveryAcceptedEventWholeAndInOrder() throws Exception {
		SseClient client = connect("/open?id=race");
		EventSource source = source("race");
		int threads = 4;
		AtomicIntegerArray accepted = new AtomicIntegerArray(threads);
		runSenders(source, threads, 100_000, accepted);
		await().atMost(WAIT).until(client::isEnded);
		List<SseEvent> events = client.events();
		assertThat(events.get(events.size() - 1)).extracting(SseEvent::type, SseEvent::data)
			.containsExactly("close", "bye");
		List<SseEvent> data = events.subList(0, events.size() - 1);
		int[] received = assertIntactAndOrdered(data, threads, false);
		for (int thread = 0; thread < threads; thread++) {
			assertThat(received[thread]).as("events of thread %d", thread).isEqualTo(accepted.get(thread));
		}
	}

	private void runSenders(EventSource source, int threads, int perThread, @Nullable AtomicIntegerArray accepted)
			throws Exception {
		ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
		CountDownLatch start = new CountDownLatch(1);
		CountDownLatch underWay = new CountDownLatch(200);
		List<CompletableFuture<?>> senders = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			int thread = t;
			senders.add(CompletableFuture.runAsync(() -> {
				awaitLatch(start);
				for (int i = 0; i < perThread; i++) {
					boolean queued = source.send(thread + "-" + i + "-" + "x".repeat(i % 300) + "\nline two");
					if (accepted == null) {
						assertThat(queued).isTrue();
					}
					else if (queued) {
						accepted.incrementAndGet(thread);
						underWay.countDown();
					}
					else {
						return;
					}
				}
			}, pool));
		}
		if (accepted != null) {
			senders.add(CompletableFuture.runAsync(() -> {
				// Close while the senders are under way.
				awaitLatch(underWay);
				source.close();
			}, pool));
		}
		start.countDown();
		CompletableFuture.allOf(senders.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
		pool.shutdown();
	}

	private static int[] assertIntactAndOrdered(List<SseEvent> events, int threads, boolean allPresent) {
		Pattern shape = Pattern.compile("(\\d+)-(\\d+)-(x*)\nline two");
		int[] next = new int[threads];
		for (SseEvent event : events) {
			Matcher matcher = shape.matcher(event.data());
			assertThat(matcher.matches()).as("intact event: %s", event.data()).isTrue();
			int thread = Integer.parseInt(matcher.group(1));
			int index = Integer.parseInt(matcher.group(2));
			assertThat(index).as("order of thread %d", thread).isEqualTo(next[thread]);
			assertThat(matcher.group(3)).hasSize(index % 300);
			next[thread]++;
		}
		if (allPresent) {
			assertThat(next).containsOnly(events.size() / threads);
		}
		return next;
	}

	private static void awaitLatch(CountDownLatch latch) {
		try {
			latch.await();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	SseClient connect(String path) {
		SseClient client = super.connect(path);
		this.clients.add(client);
		return client;
	}

	@SuppressWarnings("NullAway")
	private static String nullString() {
		Map<String, String> none = new HashMap<>();
		return none.get("none");
	}

	record Greeting(String text, int count) {
	}

}
