package io.github.sisksse.redis;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Whether the log reaches Redis, as its last calls found it, and what it says about it: one WARN when an outage
 * starts, one INFO when it ends, and for failed appends at most one WARN every {@value #WARN_EVERY_SECONDS} seconds
 * (naming how many were not logged), so that thousands of failed sends do not flood the log.
 * <p>
 * <b>Thread safety.</b> Lock-free: the outage is an atomic reference, the counts are atomic.
 */
final class Outages {

	private static final Log logger = LogFactory.getLog(RedisEventLog.class);

	private static final long WARN_EVERY_SECONDS = 10;

	private final AtomicReference<@Nullable Outage> current = new AtomicReference<>();

	private final LongAdder appendFailures = new LongAdder();

	private final AtomicLong nextAppendWarning = new AtomicLong(System.nanoTime());

	private final AtomicLong unlogged = new AtomicLong();

	/**
	 * A call reached Redis.
	 */
	void succeeded() {
		Outage ended = this.current.get();
		if (ended != null && this.current.compareAndSet(ended, null)) {
			logger.info("Redis event log reaches Redis again, after "
					+ Duration.ofNanos(System.nanoTime() - ended.startNanos()).toMillis() + " ms");
		}
	}

	/**
	 * A call could not reach Redis.
	 * @param what what the log was doing
	 */
	void failed(String what, Throwable ex) {
		if (this.current.get() == null && this.current.compareAndSet(null, new Outage(System.nanoTime(), ex))) {
			logger.warn("Redis event log cannot reach Redis (" + what + "): " + ex
					+ "; sends fail with EventLogException until it is back, open connections stay open");
		}
	}

	/**
	 * An append failed: counted, logged at most once every few seconds.
	 */
	void appendFailed(Throwable ex) {
		this.appendFailures.increment();
		failed("append", ex);
		long now = System.nanoTime();
		long next = this.nextAppendWarning.get();
		if (now - next >= 0 && this.nextAppendWarning.compareAndSet(next,
				now + TimeUnit.SECONDS.toNanos(WARN_EVERY_SECONDS))) {
			long others = this.unlogged.getAndSet(0);
			logger.warn("Failed to append an event to the Redis event log"
					+ ((others > 0) ? " (and " + others + " more since the last warning)" : "") + ": " + ex);
		}
		else {
			this.unlogged.incrementAndGet();
		}
	}

	/**
	 * Whether the last call reached Redis.
	 */
	boolean isReachable() {
		return this.current.get() == null;
	}

	/**
	 * The failure that started the current outage, if there is one.
	 */
	@Nullable Throwable cause() {
		Outage outage = this.current.get();
		return (outage != null) ? outage.cause() : null;
	}

	/**
	 * How many appends failed since the log was created.
	 */
	long appendFailures() {
		return this.appendFailures.sum();
	}

	private record Outage(long startNanos, Throwable cause) {
	}

}
