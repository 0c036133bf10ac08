package io.github.sisksse.autoconfigure;

import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.actuate.EventSourcesEndpoint;
import io.github.sisksse.actuate.EventLogHealthIndicator;
import io.github.sisksse.actuate.EventSourcesHealthIndicator;
import io.github.sisksse.micrometer.RedisEventLogMetrics;
import io.github.sisksse.redis.RedisEventLog;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of the
 * {@code eventsources} actuator endpoint and health indicator, when Spring Boot Actuator is on the classpath; and of
 * the {@code eventLog} health indicator and the Micrometer meter of a {@link RedisEventLog}, when there is one.
 */
@AutoConfiguration(after = SiskSseAutoConfiguration.class)
@ConditionalOnBean(EventSourceRegistry.class)
public final class SiskSseActuatorAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint")
	static class EndpointConfiguration {

		@Bean
		@ConditionalOnMissingBean
		@ConditionalOnAvailableEndpoint
		EventSourcesEndpoint eventSourcesEndpoint(EventSourceRegistry registry) {
			return new EventSourcesEndpoint(registry);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator")
	@ConditionalOnEnabledHealthIndicator("eventsources")
	static class HealthConfiguration {

		@Bean
		@ConditionalOnMissingBean(name = "eventSourcesHealthIndicator")
		EventSourcesHealthIndicator eventSourcesHealthIndicator(EventSourceRegistry registry,
				ObjectProvider<SiskSseProperties> properties) {
			SiskSseProperties configured = properties.getIfAvailable();
			return new EventSourcesHealthIndicator(registry,
					(configured != null) ? configured.getMaxConnections() : null);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = { "org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator",
			"org.springframework.data.redis.connection.RedisConnectionFactory" })
	@ConditionalOnEnabledHealthIndicator("eventlog")
	static class EventLogHealthConfiguration {

		@Bean
		@ConditionalOnBean(RedisEventLog.class)
		@ConditionalOnMissingBean(name = "eventLogHealthIndicator")
		EventLogHealthIndicator eventLogHealthIndicator(RedisEventLog log) {
			return new EventLogHealthIndicator(log);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = { "io.micrometer.core.instrument.binder.MeterBinder",
			"org.springframework.data.redis.connection.RedisConnectionFactory" })
	static class EventLogMetricsConfiguration {

		@Bean
		@ConditionalOnBean(RedisEventLog.class)
		@ConditionalOnMissingBean
		RedisEventLogMetrics redisEventLogMetrics(RedisEventLog log) {
			return new RedisEventLogMetrics(log);
		}

	}

}
