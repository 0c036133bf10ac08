package io.github.sisksse.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

import io.github.sisksse.EventLog;
import io.github.sisksse.EventLogException;
import io.github.sisksse.EventSourceRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.context.SmartLifecycle;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.util.Assert;

/**
 * An {@link EventLog} in Redis, shared by every application instance that uses the same Redis and key prefix, so
 * that a send on one instance reaches the streams connected to any other, and a client resumes on whichever
 * instance it reconnects to. Spring Boot configures it with {@code sisk.sse.broker=redis}, from the application's
 * {@link RedisConnectionFactory} ({@code spring.data.redis.*}).
 * <p>
 * <b>In Redis</b> (every key carries the prefix as a hash tag, {@code {prefix}:...}, so all fall in one slot): the
 * entries in a stream, {@code {prefix}:log}, with ids {@code <position>-0} and fields {@code t} (target), {@code f}
 * (the encoded event, raw bytes), {@code e} (epoch) and {@code o} (the application's own id, if any), trimmed to
 * about a maximum length; the position counter {@code {prefix}:position}; the epoch {@code {prefix}:epoch}, the
 * name of the history the stream holds, drawn anew when Redis lost it (flushed or replaced) so that positions from
 * before are recognised; and for presence, a sorted set of instances and a hash per instance with a short time to
 * live. Appends are batched: the callers waiting at the same time share one call of a Lua script that reads (or
 * starts) the epoch, then for each entry takes the next position and adds it; a caller alone gets a call of its own.
 * <p>
 * <b>Reading.</b> One thread per instance tails the stream with a blocking {@code XREAD} from the last id it read,
 * on a connection of its own; at start it reads the entries the stream still holds, so that clients coming from
 * another instance can resume here. Another thread reports this instance's presence every interval and reads the
 * others'.
 * <p>
 * <b>Faults.</b> While Redis cannot be reached, {@link #append} throws {@link EventLogException} at once (with the
 * Lettuce client, whose own reconnection would otherwise hold the call), a WARN is logged when the outage starts
 * and at most every few seconds for failed appends, {@link #isReachable()} is {@code false}, and connections
 * already open stay open. Reading is retried with a backoff of at most 1.6 s and resumes from the last id read, so
 * that nothing appended after Redis is back is missed; if Redis came back empty, the new epoch reaches the registry
 * and clients resuming from before get the reset event. An append in flight when the connection breaks may be run
 * again by Lettuce once it reconnects (it retries commands at least once), so may then be delivered twice.
 * <p>
 * <b>As a bean</b>, it is also a {@link SmartLifecycle} that stops in phase {@link #PHASE}: the application context
 * stops it before the connection factory closes. The registry starts it.
 * <p>
 * <b>Thread safety.</b> {@link #append} may be called from any number of threads at once: each call waits while a
 * thread of the log appends it with the others waiting (see {@code AppendBatcher}); the script orders concurrent
 * appends, across instances too. The reader is called by one thread at a time: the one that starts the
 * log, then the tailing thread. Nothing grows without bound: the stream is trimmed, presence snapshots are
 * replaced, not accumulated.
 *
 * @see EventSourceRegistry.Builder#eventLog(EventLog)
 */
public final class RedisEventLog implements EventLog, SmartLifecycle {

	/**
	 * The lifecycle phase in which a log that is a bean stops: after the registry and the web server (so that
	 * requests still being served can send), before the connection factory (phase 0 by default), so that the log
	 * ends its reads and withdraws its presence while Redis can still be reached.
	 */
	public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

	private final RedisConnectionFactory connectionFactory;

	private final LogKeys keys;

	private final Duration pollTimeout;

	private final String instance = Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);

	private final Outages outages = new Outages();

	private final PresenceReporter presence;

	private final AppendBatcher appender;

	private final Object lifecycle = new Object();

	// Guarded by lifecycle

	private @Nullable StreamTailer tailer;

	private volatile boolean started;

	private volatile boolean stopped;

	private RedisEventLog(Builder builder) {
		this.connectionFactory = builder.connectionFactory;
		this.keys = new LogKeys(builder.keyPrefix);
		this.pollTimeout = builder.pollTimeout;
		this.presence = new PresenceReporter(this.connectionFactory, this.keys, this.instance,
				builder.presenceInterval, this.outages);
		this.appender = new AppendBatcher(this.connectionFactory, this.keys, bytes(Long.toString(builder.maxLength)),
				RedisEventLog::newEpoch, this.outages);
	}

	/**
	 * Start building a log.
	 * @param connectionFactory where to reach Redis; the log takes connections from it, and never closes it
	 * @return a builder
	 */
	public static Builder builder(RedisConnectionFactory connectionFactory) {
		return new Builder(connectionFactory);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Reads the epoch and the entries the stream holds on the calling thread; if Redis cannot be reached, start-up
	 * goes on and the tailing thread does it once Redis is back.
	 */
	@Override
	public void start(Reader reader, Supplier<Map<String, Integer>> presence) {
		Assert.notNull(reader, "Reader must not be null");
		Assert.notNull(presence, "Presence must not be null");
		synchronized (this.lifecycle) {
			Assert.state(!this.started, "Already started");
			Assert.state(!this.stopped, "Stopped");
			StreamTailer tailer = new StreamTailer(this.connectionFactory, this.keys, reader, RedisEventLog::newEpoch,
					this.outages, this.pollTimeout);
			tailer.catchUp();
			tailer.start();
			this.tailer = tailer;
			this.appender.start();
			this.presence.start(presence);
			this.started = true;
		}
	}

	@Override
	public void append(Entry entry) {
		Assert.notNull(entry, "Entry must not be null");
		Assert.state(this.started, "Not started");
		if (this.stopped) {
			throw AppendBatcher.stoppedException();
		}
		this.appender.append(entry);
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Read by a thread of this log every presence interval; empty when that failed for longer than five intervals.
	 */
	@Override
	public Map<String, Integer> presence() {
		return this.presence.others();
	}

	/**
	 * Stop tailing and reporting, and withdraw this instance's presence. Does nothing if already stopped; a stopped
	 * log cannot be started again.
	 */
	@Override
	public void stop() {
		StreamTailer tailer;
		synchronized (this.lifecycle) {
			if (this.stopped) {
				return;
			}
			this.stopped = true;
			tailer = this.tailer;
			this.tailer = null;
		}
		if (tailer != null) {
			this.appender.stop();
			tailer.stop();
		}
		this.presence.stop(tailer != null);
	}

	/**
	 * Does nothing: the registry that the log is given to starts it, with {@link #start(Reader, Supplier)}.
	 */
	@Override
	public void start() {
	}

	/**
	 * Return whether the log was started by its registry and not stopped yet.
	 */
	@Override
	public boolean isRunning() {
		return this.started && !this.stopped;
	}

	@Override
	public int getPhase() {
		return PHASE;
	}

	/**
	 * Return whether the log reaches Redis: its last call did, and its connection is up.
	 * @return whether sends can be appended now
	 */
	public boolean isReachable() {
		if (!this.outages.isReachable()) {
			return false;
		}
		return LettuceConnectivity.isConnected(this.connectionFactory);
	}

	/**
	 * Return the failure that made Redis unreachable, if it is.
	 * @return the failure, or {@code null}
	 */
	public @Nullable Throwable lastFailure() {
		return this.outages.cause();
	}

	/**
	 * Return how many appends failed since the log was created.
	 * @return the count
	 */
	public long appendFailures() {
		return this.outages.appendFailures();
	}

	/**
	 * Return the prefix of the log's keys.
	 * @return the prefix, without braces
	 */
	public String keyPrefix() {
		return this.keys.prefix();
	}

	/**
	 * Return the name by which this instance reports its presence.
	 * @return a random name, drawn when the log is created
	 */
	public String instance() {
		return this.instance;
	}

	private static byte[] newEpoch() {
		// Eight base-36 characters, at random: no '-', so that ids read back unambiguously.
		return bytes(Long.toString(ThreadLocalRandom.current().nextLong(78_364_164_096L, 2_821_109_907_456L), 36));
	}

	private static byte[] bytes(String value) {
		return value.getBytes(StandardCharsets.UTF_8);
	}

	/**
	 * Settings of a {@link RedisEventLog}.
	 */
	public static final class Builder {

		private final RedisConnectionFactory connectionFactory;

		private String keyPrefix = "sisk-sse";

		private long maxLength = 10_000;

		private Duration presenceInterval = Duration.ofSeconds(1);

		private Duration pollTimeout = Duration.ofSeconds(1);

		private Builder(RedisConnectionFactory connectionFactory) {
			Assert.notNull(connectionFactory, "Connection factory must not be null");
			this.connectionFactory = connectionFactory;
		}

		/**
		 * Set the prefix of the log's keys; instances share a log when they share Redis and this prefix. Default
		 * {@code sisk-sse}.
		 * @param keyPrefix the prefix, without braces
		 * @return this builder
		 */
		public Builder keyPrefix(String keyPrefix) {
			Assert.hasText(keyPrefix, "Key prefix must not be empty");
			Assert.isTrue(keyPrefix.indexOf('{') < 0 && keyPrefix.indexOf('}') < 0,
					"Key prefix must not contain braces");
			this.keyPrefix = keyPrefix;
			return this;
		}

		/**
		 * Set about how many entries the stream keeps (Redis trims it to a little more): enough for a client to
		 * resume after the events it missed, and for an instance that falls behind to catch up. Default 10,000.
		 * @param maxLength the approximate number of entries
		 * @return this builder
		 */
		public Builder maxLength(long maxLength) {
			Assert.isTrue(maxLength > 0, "Maximum length must be positive");
			this.maxLength = maxLength;
			return this;
		}

		/**
		 * Set how often this instance reports its connections; an instance that stops reporting drops out of the
		 * others' presence after five intervals. Default 1 s.
		 * @param presenceInterval the interval
		 * @return this builder
		 */
		public Builder presenceInterval(Duration presenceInterval) {
			Assert.isTrue(presenceInterval.toMillis() > 0, "Presence interval must be at least 1 ms");
			this.presenceInterval = presenceInterval;
			return this;
		}

		/**
		 * Set how long a read of the stream waits for new entries before it checks the epoch again, which bounds
		 * how soon a flush of Redis is noticed when nothing is sent. Keep it below the client's command timeout
		 * ({@code spring.data.redis.timeout}). Default 1 s.
		 * @param pollTimeout the time
		 * @return this builder
		 */
		public Builder pollTimeout(Duration pollTimeout) {
			Assert.isTrue(pollTimeout.toMillis() > 0, "Poll timeout must be at least 1 ms");
			this.pollTimeout = pollTimeout;
			return this;
		}

		/**
		 * Build the log; the registry it is given to starts it.
		 * @return the log
		 */
		public RedisEventLog build() {
			return new RedisEventLog(this);
		}

	}

}
