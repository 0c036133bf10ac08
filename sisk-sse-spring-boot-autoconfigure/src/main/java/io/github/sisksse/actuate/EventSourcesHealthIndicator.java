package io.github.sisksse.actuate;

import io.github.sisksse.EventSourceRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * Reports the open event sources against {@code sisk.sse.max-connections}. Always up: a full registry refuses
 * new streams (503) but serves the open ones.
 */
public class EventSourcesHealthIndicator extends AbstractHealthIndicator {

	private final EventSourceRegistry registry;

	private final @Nullable Integer maxConnections;

	/**
	 * Create the indicator.
	 * @param registry the registry to report on
	 * @param maxConnections the configured limit, or {@code null} if there is none
	 */
	public EventSourcesHealthIndicator(EventSourceRegistry registry, @Nullable Integer maxConnections) {
		super("Event sources health check failed");
		this.registry = registry;
		this.maxConnections = maxConnections;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		builder.up().withDetail("connections", this.registry.connectionCount())
			.withDetail("identified", this.registry.size());
		if (this.maxConnections != null) {
			builder.withDetail("maxConnections", this.maxConnections);
		}
	}

}
