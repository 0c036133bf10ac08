package io.github.sisksse.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import io.github.sisksse.EventLog;
import io.github.sisksse.EventLogException;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.lettuce.core.KillArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * {@link RedisEventLog} against a real Redis: order and positions across instances, epochs, faults, presence.
 */
class RedisEventLogTests {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private static final Duration FAST = Duration.ofMillis(200);

	private static EmbeddedRedis shared;

	private final String prefix = "test-" + System.nanoTime();

	private final List<RedisEventLog> logs = new ArrayList<>();

	private final List<LettuceConnectionFactory> factories = new ArrayList<>();

	@BeforeAll
	static void startRedis() {
		shared = EmbeddedRedis.start();
	}

	@AfterAll
	static void stopRedis() {
		shared.close();
	}

	@AfterEach
	void stopLogs() {
		this.logs.forEach(RedisEventLog::stop);
		this.factories.forEach(LettuceConnectionFactory::destroy);
	}

	@Test
	void everyInstanceReadsTheSameEntriesInOneOrderWithConsecutivePositionsAndOneEpoch() throws Exception {
		RedisEventLog a = log(shared);
		RedisEventLog b = log(shared);
		RecordingReader readerA = new RecordingReader();
		RecordingReader readerB = new RecordingReader();
		a.start(readerA, Map::of);
		b.start(readerB, Map::of);
		int threads = 4;
		int perThread = 250;
		List<CompletableFuture<?>> senders = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			RedisEventLog log = (t % 2 == 0) ? a : b;
			String thread = "t" + t;
			senders.add(CompletableFuture.runAsync(() -> {
				for (int i = 0; i < perThread; i++) {
					log.append(entry("s:" + thread, thread + "-" + i));
				}
			}));
		}
		CompletableFuture.allOf(senders.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
		await().atMost(WAIT).until(() -> readerA.entries.size() == threads * perThread
				&& readerB.entries.size() == threads * perThread);
		assertThat(readerA.entries).extracting(Received::position)
			.containsExactlyElementsOf(LongStream.rangeClosed(1, threads * perThread).boxed().toList());
		assertThat(readerB.entries).extracting(Received::data)
			.containsExactlyElementsOf(readerA.entries.stream().map(Received::data).toList());
		assertThat(readerA.epochs).hasSize(1).isEqualTo(readerB.epochs);
		for (int t = 0; t < threads; t++) {
			String thread = "t" + t;
			assertThat(readerA.entries).filteredOn((received) -> received.target().equals("s:" + thread))
				.extracting(Received::data)
				.containsExactlyElementsOf(java.util.stream.IntStream.range(0, perThread)
					.mapToObj((i) -> thread + "-" + i)
					.toList());
		}
	}

	@Test
	void appendsWaitingAtOnceShareScriptCallsAndEachSendersOrderIsKept() throws Exception {
		RedisEventLog log = log(shared);
		RecordingReader reader = new RecordingReader();
		log.start(reader, Map::of);
		long callsBefore = scriptCalls();
		int threads = 32;
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		int perThread = 100;
		List<CompletableFuture<?>> senders = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			String thread = "t" + t;
			senders.add(CompletableFuture.runAsync(() -> {
				for (int i = 0; i < perThread; i++) {
					// Own ids, absent ones and one of a megabyte (a batch to itself) mixed in the same batches.
					String ownId = (i % 3 == 0) ? null : "=" + thread + "-" + i;
					byte[] frame = (i == 50) ? new byte[AppendBatcher.MAX_BYTES + 1] : bytes("data: " + thread + "-" + i + "\n\n");
					log.append(new EventLog.Entry("s:" + thread, ownId, frame));
				}
			}, pool));
		}
		CompletableFuture.allOf(senders.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
		pool.shutdown();
		await().atMost(WAIT).until(() -> reader.entries.size() == threads * perThread);
		assertThat(reader.entries).extracting(Received::position)
			.containsExactlyElementsOf(LongStream.rangeClosed(1, threads * perThread).boxed().toList());
		for (int t = 0; t < threads; t++) {
			String thread = "t" + t;
			List<Received> mine = reader.entries.stream().filter((received) -> received.target().equals("s:" + thread)).toList();
			assertThat(mine).hasSize(perThread);
			for (int i = 0; i < perThread; i++) {
				assertThat(mine.get(i).ownId()).isEqualTo((i % 3 == 0) ? null : "=" + thread + "-" + i);
				if (i != 50) {
					assertThat(mine.get(i).data()).isEqualTo(thread + "-" + i);
				}
				else {
					assertThat(mine.get(i).frame()).hasSize(AppendBatcher.MAX_BYTES + 1);
				}
			}
		}
		// Fewer script calls than entries: callers waiting at the same time shared them.
		assertThat(scriptCalls() - callsBefore).isLessThan(threads * perThread);
	}

	@Test
	void stoppingTheLogFailsTheAppendsWaitingAndLeavesNoCallerWaiting() throws Exception {
		RedisEventLog log = log(shared);
		log.start(new RecordingReader(), Map::of);
		AtomicInteger appended = new AtomicInteger();
		AtomicInteger failed = new AtomicInteger();
		ExecutorService pool = Executors.newFixedThreadPool(16);
		List<CompletableFuture<?>> senders = new ArrayList<>();
		for (int t = 0; t < 16; t++) {
			senders.add(CompletableFuture.runAsync(() -> {
				while (true) {
					try {
						log.append(entry("*", "e"));
						appended.incrementAndGet();
					}
					catch (EventLogException ex) {
						failed.incrementAndGet();
						return;
					}
				}
			}, pool));
		}
		await().atMost(WAIT).until(() -> appended.get() > 1000);
		log.stop();
		CompletableFuture.allOf(senders.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
		pool.shutdown();
		assertThat(failed).hasValue(16);
		// The batch in flight at the stop was not cut short: no append failed for want of Redis.
		assertThat(log.appendFailures()).isZero();
		assertThatExceptionOfType(EventLogException.class).isThrownBy(() -> log.append(entry("*", "late")))
			.withMessageContaining("stopped");
	}

	@Test
	void appendsBehindABatchHeldByABrokenConnectionFailAtOnce() throws Exception {
		try (EmbeddedRedis redis = EmbeddedRedis.start()) {
			RedisEventLog log = log(redis);
			log.start(new RecordingReader(), Map::of);
			log.append(entry("*", "warm"));
			LettuceConnectionFactory admin = connectionFactory(redis);
			try (RedisConnection connection = admin.getConnection()) {
				connection.execute("CLIENT", bytes("PAUSE"), bytes("10000"), bytes("WRITE"));
			}
			// A batch in flight, held by the paused Redis, then by Lettuce's reconnection once Redis is killed.
			CompletableFuture<Void> held = CompletableFuture.runAsync(() -> log.append(entry("*", "held")),
					Executors.newSingleThreadExecutor());
			await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !held.isDone());
			redis.stop();
			await().atMost(WAIT).until(() -> !log.isReachable());
			// Redis stays down: another append fails at once instead of waiting behind the held batch.
			CompletableFuture<Void> next = CompletableFuture.runAsync(() -> log.append(entry("*", "next")),
					Executors.newSingleThreadExecutor());
			await().atMost(Duration.ofSeconds(3)).until(next::isDone);
			assertThat(next).isCompletedExceptionally();
			assertThatExceptionOfType(java.util.concurrent.ExecutionException.class).isThrownBy(next::get)
				.withCauseInstanceOf(EventLogException.class);
		}
	}

	@Test
	void targetOwnIdAndRawFrameBytesTravelUnchanged() {
		RedisEventLog log = log(shared);
		RecordingReader reader = new RecordingReader();
		log.start(reader, Map::of);
		byte[] frame = { 'd', 'a', 't', 'a', ':', ' ', 0, (byte) 0xff, (byte) 0xc3, '\n', '\n' };
		log.append(new EventLog.Entry("c:instance:42:user-é", "own-1", frame));
		log.append(new EventLog.Entry("x:instance:42", null, new byte[0]));
		await().atMost(WAIT).until(() -> reader.entries.size() == 2);
		Received first = reader.entries.get(0);
		assertThat(first.target()).isEqualTo("c:instance:42:user-é");
		assertThat(first.ownId()).isEqualTo("own-1");
		assertThat(first.frame()).containsExactly(frame);
		Received second = reader.entries.get(1);
		assertThat(second.ownId()).isNull();
		assertThat(second.frame()).isEmpty();
	}

	@Test
	void anInstanceThatStartsLaterHasReadWhatTheStreamHoldsWhenStartReturns() {
		RedisEventLog first = log(shared);
		first.start(new RecordingReader(), Map::of);
		for (int i = 0; i < 5; i++) {
			first.append(entry("*", "e" + i));
		}
		RecordingReader later = new RecordingReader();
		log(shared).start(later, Map::of);
		assertThat(later.epochs).hasSize(1);
		assertThat(later.entries).extracting(Received::position).containsExactly(1L, 2L, 3L, 4L, 5L);
		// Read by start() itself, not by the tailing thread afterwards.
		assertThat(later.entries).extracting(Received::thread).containsOnly(Thread.currentThread());
		assertThat(later.entries).extracting(Received::data).containsExactly("e0", "e1", "e2", "e3", "e4");
	}

	@Test
	void theStreamIsTrimmedToAboutItsMaximumLength() {
		RedisEventLog first = log(shared, builder(connectionFactory(shared)).maxLength(10));
		first.start(new RecordingReader(), Map::of);
		for (int i = 0; i < 1000; i++) {
			first.append(entry("*", "e" + i));
		}
		RecordingReader later = new RecordingReader();
		log(shared).start(later, Map::of);
		// MAXLEN ~ trims whole nodes of the stream (100 entries each by default): some more than 10 stay.
		assertThat(later.entries).hasSizeBetween(10, 200);
		List<Long> positions = later.entries.stream().map(Received::position).toList();
		assertThat(positions.get(positions.size() - 1)).isEqualTo(1000L);
		assertThat(positions).isEqualTo(LongStream.rangeClosed(1001 - positions.size(), 1000).boxed().toList());
	}

	@Test
	void aReaderThatCannotTakeAnEntryIsOfferedTheSameOneAgainLater() {
		RedisEventLog log = log(shared);
		AtomicInteger refusals = new AtomicInteger(3);
		RecordingReader reader = new RecordingReader() {

			@Override
			public void entry(long position, EventLog.Entry entry) {
				if (position == 2 && refusals.getAndDecrement() > 0) {
					throw new IllegalStateException("full");
				}
				super.entry(position, entry);
			}

		};
		log.start(reader, Map::of);
		log.append(entry("*", "one"));
		log.append(entry("*", "two"));
		log.append(entry("*", "three"));
		await().atMost(WAIT).until(() -> reader.entries.size() == 3);
		assertThat(refusals.get()).isNegative();
		assertThat(reader.entries).extracting(Received::data).containsExactly("one", "two", "three");
	}

	@Test
	void aFlushStartsANewEpochThatReachesTheReaderEvenWithoutAnAppend() {
		try (EmbeddedRedis redis = EmbeddedRedis.start()) {
			RedisEventLog log = log(redis);
			RecordingReader reader = startWithOneEntry(log);
			redis.flushAll();
			await().atMost(WAIT).until(() -> reader.epochs.size() == 2);
			assertThat(reader.epochs.get(1)).isNotEqualTo(reader.epochs.get(0)).doesNotContain("-");
			log.append(entry("*", "after"));
			assertTheSecondEntryIsTheFirstOfTheNewEpoch(reader);
		}
	}

	@Test
	void whileRedisIsDownAppendsFailAtOnceAndOnceItIsBackEmptyTheyReachTheReaderInANewEpoch() {
		try (EmbeddedRedis redis = EmbeddedRedis.start()) {
			RedisEventLog log = log(redis);
			RecordingReader reader = startWithOneEntry(log);
			assertThat(log.isReachable()).isTrue();
			redis.stop();
			await().atMost(WAIT).until(() -> !log.isReachable());
			long started = System.nanoTime();
			assertThatExceptionOfType(EventLogException.class).isThrownBy(() -> log.append(entry("*", "lost")));
			assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
			assertThat(log.appendFailures()).isEqualTo(1);
			redis.restart();
			await().atMost(Duration.ofSeconds(30)).ignoreException(EventLogException.class).until(() -> {
				log.append(entry("*", "after"));
				return true;
			});
			assertTheSecondEntryIsTheFirstOfTheNewEpoch(reader);
			await().atMost(WAIT).until(log::isReachable);
		}
	}

	@Test
	void afterItsConnectionsBreakTheLogResumesFromTheLastIdReadInTheSameEpoch() {
		RedisEventLog log = log(shared);
		RecordingReader reader = new RecordingReader();
		log.start(reader, Map::of);
		for (int i = 0; i < 10; i++) {
			log.append(entry("*", "e" + i));
		}
		await().atMost(WAIT).until(() -> reader.entries.size() == 10);
		LettuceConnectionFactory admin = connectionFactory(shared);
		try (RedisConnection connection = admin.getConnection()) {
			// Every other client's connection, the log's blocked read included; the data stays.
			RedisAsyncCommands<?, ?> commands = (RedisAsyncCommands<?, ?>) connection.getNativeConnection();
			assertThat(commands.getStatefulConnection().sync().clientKill(KillArgs.Builder.typeNormal().skipme()))
				.isPositive();
		}
		for (int i = 10; i < 20; i++) {
			String data = "e" + i;
			await().atMost(WAIT).ignoreException(EventLogException.class).until(() -> {
				log.append(entry("*", data));
				return true;
			});
		}
		await().atMost(WAIT).until(() -> reader.entries.size() == 20);
		assertThat(reader.epochs).hasSize(1);
		assertThat(reader.entries).extracting(Received::position)
			.containsExactlyElementsOf(LongStream.rangeClosed(1, 20).boxed().toList());
	}

	@Test
	void instancesSeeEachOthersPresenceButNotTheirOwnAndOneThatStopsWithdrawsAtOnce() {
		RedisEventLog a = log(shared);
		RedisEventLog b = log(shared);
		Map<String, Integer> connectedToA = new ConcurrentHashMap<>(Map.of("user-1", 1));
		a.start(new RecordingReader(), () -> Map.copyOf(connectedToA));
		b.start(new RecordingReader(), () -> Map.of("user-1", 2, "user-2", 1));
		await().atMost(WAIT).until(() -> a.presence().equals(Map.of("user-1", 2, "user-2", 1))
				&& b.presence().equals(Map.of("user-1", 1)));
		connectedToA.put("user-3", 4);
		await().atMost(WAIT).until(() -> b.presence().equals(Map.of("user-1", 1, "user-3", 4)));
		b.stop();
		await().atMost(Duration.ofSeconds(1)).until(() -> a.presence().isEmpty());
	}

	@Test
	void anInstanceThatStopsReportingWithoutWithdrawingDropsOutWithinAFewIntervals() {
		RedisEventLog alive = log(shared);
		alive.start(new RecordingReader(), () -> Map.of("alive", 1));
		LettuceConnectionFactory doomedFactory = connectionFactory(shared);
		RedisEventLog doomed = log(shared, builder(doomedFactory));
		doomed.start(new RecordingReader(), () -> Map.of("doomed", 1));
		RedisEventLog observer = log(shared);
		observer.start(new RecordingReader(), Map::of);
		await().atMost(WAIT).until(() -> observer.presence().equals(Map.of("alive", 1, "doomed", 1)));
		// As if its process died: it can neither report nor withdraw.
		doomedFactory.destroy();
		long died = System.nanoTime();
		await().atMost(WAIT).until(() -> observer.presence().equals(Map.of("alive", 1)));
		// Five intervals of 200 ms, and one more to read it.
		assertThat(Duration.ofNanos(System.nanoTime() - died)).isLessThan(Duration.ofSeconds(3));
		// The live one was never dropped meanwhile, nor afterwards.
		await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
			.until(() -> observer.presence().equals(Map.of("alive", 1)));
	}

	/** How many times Redis has run a script, all tests together. */
	private long scriptCalls() {
		try (RedisConnection connection = connectionFactory(shared).getConnection()) {
			Properties stats = connection.serverCommands().info("commandstats");
			long calls = 0;
			for (String name : List.of("cmdstat_evalsha", "cmdstat_eval")) {
				String value = stats.getProperty(name);
				if (value != null) {
					calls += Long.parseLong(value.replaceAll("^calls=(\\d+),.*$", "$1"));
				}
			}
			return calls;
		}
	}

	private static RecordingReader startWithOneEntry(RedisEventLog log) {
		RecordingReader reader = new RecordingReader();
		log.start(reader, Map::of);
		log.append(entry("*", "before"));
		await().atMost(WAIT).until(() -> reader.entries.size() == 1);
		return reader;
	}

	private static void assertTheSecondEntryIsTheFirstOfTheNewEpoch(RecordingReader reader) {
		await().atMost(WAIT).until(() -> reader.entries.size() == 2);
		assertThat(reader.epochs).hasSize(2);
		assertThat(reader.entries.get(1)).extracting(Received::epoch, Received::position, Received::data)
			.containsExactly(reader.epochs.get(1), 1L, "after");
	}

	private RedisEventLog log(EmbeddedRedis redis) {
		return log(redis, builder(connectionFactory(redis)));
	}

	private RedisEventLog log(EmbeddedRedis redis, RedisEventLog.Builder builder) {
		RedisEventLog log = builder.build();
		this.logs.add(log);
		return log;
	}

	private RedisEventLog.Builder builder(LettuceConnectionFactory factory) {
		return RedisEventLog.builder(factory).keyPrefix(this.prefix).presenceInterval(FAST).pollTimeout(FAST);
	}

	private LettuceConnectionFactory connectionFactory(EmbeddedRedis redis) {
		LettuceConnectionFactory factory = redis.connectionFactory();
		this.factories.add(factory);
		return factory;
	}

	private static EventLog.Entry entry(String target, String data) {
		return new EventLog.Entry(target, null, bytes("data: " + data + "\n\n"));
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	/**
	 * Records what the log feeds it.
	 */
	static class RecordingReader implements EventLog.Reader {

		final List<String> epochs = new CopyOnWriteArrayList<>();

		final List<Received> entries = new CopyOnWriteArrayList<>();

		@Override
		public void epoch(String epoch) {
			this.epochs.add(epoch);
		}

		@Override
		public void entry(long position, EventLog.Entry entry) {
			this.entries.add(new Received(this.epochs.get(this.epochs.size() - 1), position, entry.target(),
					entry.ownId(), entry.frame(), Thread.currentThread()));
		}

	}

	record Received(String epoch, long position, String target, @Nullable String ownId, byte[] frame,
			Thread thread) {

		String data() {
			String text = new String(this.frame, StandardCharsets.UTF_8);
			return text.startsWith("data: ") ? text.substring(6, text.length() - 2) : text;
		}

	}

}
