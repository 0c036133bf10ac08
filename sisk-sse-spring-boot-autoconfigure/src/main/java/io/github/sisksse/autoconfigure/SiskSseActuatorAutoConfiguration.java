package io.github.sisksse.autoconfigure;

import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.actuate.EventSourcesEndpoint;
import io.github.sisksse.actuate.EventSourcesHealthIndicator;

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
 * {@code eventsources} actuator endpoint and health indicator, when Spring Boot Actuator is on the classpath.
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

}
