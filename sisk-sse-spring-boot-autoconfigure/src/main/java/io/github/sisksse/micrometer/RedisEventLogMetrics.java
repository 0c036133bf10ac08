package io.github.sisksse.micrometer;

import io.github.sisksse.redis.RedisEventLog;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Micrometer meter of the {@link RedisEventLog}: {@code sisk.sse.log.appends.failed}, the sends that Redis could
 * not take (each failed with an {@link io.github.sisksse.EventLogException}).
 */
public final class RedisEventLogMetrics implements MeterBinder {

	private final RedisEventLog log;

	/**
	 * Create the meter's binder.
	 * @param log the log to measure
	 */
	public RedisEventLogMetrics(RedisEventLog log) {
		this.log = log;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		FunctionCounter.builder("sisk.sse.log.appends.failed", this.log, RedisEventLog::appendFailures)
			.description("Events that could not be appended to the Redis event log")
			.register(registry);
	}

}
