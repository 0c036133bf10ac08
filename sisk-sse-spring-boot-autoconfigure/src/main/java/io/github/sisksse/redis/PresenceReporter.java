package io.github.sisksse.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.ReturnType;

/**
 * Tells the other instances which identified connections this one has, and learns theirs: every interval, one
 * script writes this instance's snapshot to a hash of its own that expires after the time to live (unless the
 * snapshot did not change, when only its expiry is renewed), records the instance's heartbeat in a sorted set,
 * forgets the instances whose heartbeat is older than the time to live, and returns the hashes of the live others.
 * An instance that stops reporting drops out within the time to live; a snapshot older than that is not returned.
 * <p>
 * <b>Thread safety.</b> Reports run on one thread of their own; the others' presence is published to readers as an
 * immutable snapshot through a volatile field.
 */
final class PresenceReporter {

	private static final Log logger = LogFactory.getLog(RedisEventLog.class);

	private static final byte[] FULL = "full".getBytes(StandardCharsets.UTF_8);

	private final RedisConnectionFactory connectionFactory;

	private final LogKeys keys;

	private final String instance;

	private final Duration interval;

	private final long ttlMillis;

	private final Outages outages;

	private final ScheduledExecutorService executor;

	private volatile Seen seen = new Seen(Map.of(), System.nanoTime());

	// Confined to the reporting thread

	private @Nullable Supplier<Map<String, Integer>> local;

	/** The snapshot the hash holds, or {@code null} if it must be written whole. */
	private @Nullable Map<String, Integer> written;

	/** The other instances live at the last report. */
	private List<String> others = List.of();

	PresenceReporter(RedisConnectionFactory connectionFactory, LogKeys keys, String instance, Duration interval,
			Outages outages) {
		this.connectionFactory = connectionFactory;
		this.keys = keys;
		this.instance = instance;
		this.interval = interval;
		this.ttlMillis = interval.multipliedBy(5).toMillis();
		this.outages = outages;
		this.executor = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "sisk-sse-redis-presence");
			thread.setDaemon(true);
			return thread;
		});
	}

	/**
	 * Start reporting.
	 * @param local this instance's identified connections, identifier to count
	 */
	void start(Supplier<Map<String, Integer>> local) {
		this.executor.execute(() -> this.local = local);
		this.executor.scheduleWithFixedDelay(this::report, 0, this.interval.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * Return the other instances' connections as last read, or nothing if that is older than the time to live.
	 */
	Map<String, Integer> others() {
		Seen current = this.seen;
		return (System.nanoTime() - current.atNanos() > TimeUnit.MILLISECONDS.toNanos(this.ttlMillis)) ? Map.of()
				: current.presence();
	}

	/**
	 * Stop reporting and, if it was reported, withdraw this instance's presence.
	 */
	void stop(boolean withdraw) {
		this.executor.shutdownNow();
		try {
			this.executor.awaitTermination(2, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		if (!withdraw) {
			return;
		}
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			if (!LettuceConnectivity.isDisconnected(connection)) {
				connection.zSetCommands().zRem(this.keys.instances(), bytes(this.instance));
				connection.keyCommands().del(this.keys.presence(this.instance));
			}
		}
		catch (RuntimeException ex) {
			logger.debug("Failed to withdraw this instance's presence from Redis", ex);
		}
	}

	void report() {
		Supplier<Map<String, Integer>> local = this.local;
		if (local == null) {
			return;
		}
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			if (LettuceConnectivity.isDisconnected(connection)) {
				throw new IllegalStateException("Not connected to Redis");
			}
			Map<String, Integer> snapshot = local.get();
			boolean full = !snapshot.equals(this.written);
			List<byte[]> keysAndArgs = new ArrayList<>();
			keysAndArgs.add(this.keys.instances());
			keysAndArgs.add(this.keys.presence(this.instance));
			this.others.forEach((other) -> keysAndArgs.add(this.keys.presence(other)));
			keysAndArgs.add(bytes(this.instance));
			keysAndArgs.add(bytes(Long.toString(this.ttlMillis)));
			if (full) {
				keysAndArgs.add(FULL);
				snapshot.forEach((identifier, count) -> {
					keysAndArgs.add(bytes(identifier));
					keysAndArgs.add(bytes(Integer.toString(count)));
				});
			}
			else {
				keysAndArgs.add(bytes(Integer.toString(snapshot.size())));
			}
			List<?> reply = LogScripts.PRESENCE.run(connection, ReturnType.MULTI, 2 + this.others.size(),
					keysAndArgs.toArray(new byte[0][]));
			this.outages.succeeded();
			read(reply, snapshot);
		}
		catch (RuntimeException ex) {
			this.outages.failed("report presence", ex);
			this.written = null;
		}
	}

	private void read(@Nullable List<?> reply, Map<String, Integer> snapshot) {
		if (reply == null || reply.size() != 3) {
			throw new IllegalStateException("Unexpected reply " + reply);
		}
		this.written = (reply.get(0) instanceof Long lost && lost == 1) ? null : snapshot;
		Set<String> live = new HashSet<>();
		for (Object instance : (List<?>) reply.get(1)) {
			live.add(string(instance));
		}
		Map<String, Integer> presence = new HashMap<>();
		List<?> hashes = (List<?>) reply.get(2);
		for (int i = 0; i < hashes.size() && i < this.others.size(); i++) {
			if (!live.contains(this.others.get(i))) {
				continue;
			}
			List<?> fields = (List<?>) hashes.get(i);
			for (int f = 0; f + 1 < fields.size(); f += 2) {
				presence.merge(string(fields.get(f)), Integer.parseInt(string(fields.get(f + 1))), Integer::sum);
			}
		}
		live.remove(this.instance);
		this.others = List.copyOf(live);
		this.seen = new Seen(Map.copyOf(presence), System.nanoTime());
	}

	private static String string(Object value) {
		return (value instanceof byte[] bytes) ? new String(bytes, StandardCharsets.UTF_8) : String.valueOf(value);
	}

	private static byte[] bytes(String value) {
		return value.getBytes(StandardCharsets.UTF_8);
	}

	private record Seen(Map<String, Integer> presence, long atNanos) {
	}

}
