package io.github.sisksse.autoconfigure;

import java.time.Duration;

import io.github.sisksse.EventLog;
import io.github.sisksse.redis.RedisEventLog;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of the registry's
 * {@link EventLog} in Redis, with {@code sisk.sse.broker=redis}: a {@link RedisEventLog} on the application's
 * {@link RedisConnectionFactory} (Spring Boot's, from {@code spring.data.redis.*}), which
 * {@link SiskSseAutoConfiguration} gives to the registry. Its health indicator and meter are configured by
 * {@link SiskSseActuatorAutoConfiguration}.
 */
@AutoConfiguration(before = SiskSseAutoConfiguration.class,
		afterName = "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration")
@ConditionalOnWebApplication(type = Type.SERVLET)
@ConditionalOnBooleanProperty(name = "sisk.sse.enabled", matchIfMissing = true)
@ConditionalOnProperty(name = "sisk.sse.broker", havingValue = "redis")
@EnableConfigurationProperties(SiskSseProperties.class)
public final class SiskSseRedisAutoConfiguration {

	private static final String CONNECTION_FACTORY = "org.springframework.data.redis.connection.RedisConnectionFactory";

	/**
	 * Below this, the log would keep too few entries for an instance that falls behind a burst to catch up.
	 */
	private static final int MIN_STREAM_LENGTH = 1000;

	private static final int STREAM_LENGTH_WITHOUT_REPLAY = 10_000;

	private static final Duration POLL_TIMEOUT = Duration.ofSeconds(1);

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = CONNECTION_FACTORY)
	static class RedisEventLogConfiguration {

		/**
		 * The log: started by the registry it is given to, stopped by the context before the connection factory.
		 */
		@Bean
		@ConditionalOnMissingBean(EventLog.class)
		RedisEventLog siskSseRedisEventLog(RedisConnectionFactory connectionFactory, SiskSseProperties properties,
				Environment environment) {
			SiskSseProperties.Replay replay = properties.getReplay();
			int length = replay.isEnabled() ? Math.max(replay.getMaxEvents(), MIN_STREAM_LENGTH)
					: STREAM_LENGTH_WITHOUT_REPLAY;
			return RedisEventLog.builder(connectionFactory)
				.keyPrefix(properties.getRedis().getKeyPrefix())
				.presenceInterval(properties.getRedis().getPresenceInterval())
				.maxLength(length)
				.pollTimeout(pollTimeout(environment))
				.build();
		}

		/**
		 * A blocking read must end before the client's command timeout, which would count it as failed.
		 */
		private static Duration pollTimeout(Environment environment) {
			Duration commandTimeout = environment.getProperty("spring.data.redis.timeout", Duration.class);
			if (commandTimeout == null || commandTimeout.compareTo(POLL_TIMEOUT.multipliedBy(2)) >= 0) {
				return POLL_TIMEOUT;
			}
			return Duration.ofMillis(Math.max(1, commandTimeout.toMillis() / 2));
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnMissingClass(CONNECTION_FACTORY)
	static class SpringDataRedisMissingConfiguration {

		SpringDataRedisMissingConfiguration() {
			throw new InvalidConfigurationPropertyValueException("sisk.sse.broker", "redis",
					"Spring Data Redis is not on the classpath: add spring-boot-starter-data-redis, "
							+ "and configure Redis with spring.data.redis.*");
		}

	}

}
