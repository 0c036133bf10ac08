package io.github.sisksse.actuate;

import io.github.sisksse.redis.RedisEventLog;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * Reports whether the {@link RedisEventLog} reaches Redis: down while it does not, when sends fail and streams
 * receive only what was sent before, though they stay open.
 */
public class EventLogHealthIndicator extends AbstractHealthIndicator {

	private final RedisEventLog log;

	/**
	 * Create the indicator.
	 * @param log the log to report on
	 */
	public EventLogHealthIndicator(RedisEventLog log) {
		super("Event log health check failed");
		this.log = log;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		if (this.log.isReachable()) {
			builder.up();
		}
		else {
			builder.down();
			Throwable failure = this.log.lastFailure();
			if (failure != null) {
				builder.withDetail("error", failure.getClass().getName() + ": " + failure.getMessage());
			}
		}
		builder.withDetail("broker", "redis")
			.withDetail("keyPrefix", this.log.keyPrefix())
			.withDetail("instance", this.log.instance())
			.withDetail("appendFailures", this.log.appendFailures());
	}

}
