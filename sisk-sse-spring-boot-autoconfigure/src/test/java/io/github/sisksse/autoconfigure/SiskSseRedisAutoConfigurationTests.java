package io.github.sisksse.autoconfigure;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

import io.github.sisksse.EventLog;
import io.github.sisksse.EventLogException;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.actuate.EventLogHealthIndicator;
import io.github.sisksse.micrometer.RedisEventLogMetrics;
import io.github.sisksse.redis.EmbeddedRedis;
import io.github.sisksse.redis.RedisEventLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.task.TaskSchedulingAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link SiskSseRedisAutoConfiguration} and the Redis parts of {@link SiskSseActuatorAutoConfiguration}.
 */
class SiskSseRedisAutoConfigurationTests {

	private static EmbeddedRedis redis;

	private final String prefix = "auto-" + System.nanoTime();

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class,
				SiskSseRedisAutoConfiguration.class, SiskSseAutoConfiguration.class,
				SiskSseActuatorAutoConfiguration.class, TaskSchedulingAutoConfiguration.class));

	@BeforeAll
	static void startRedis() {
		redis = EmbeddedRedis.start();
	}

	@AfterAll
	static void stopRedis() {
		redis.close();
	}

	@Test
	void theDefaultBrokerKeepsTheLogInMemory() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(EventSourceRegistry.class);
			assertThat(context).doesNotHaveBean(EventLog.class);
			assertThat(context.getBean(SiskSseProperties.class).getBroker()).isEqualTo(SiskSseProperties.Broker.MEMORY);
			assertThat(context.getBean(SiskSseProperties.class).getRedis().getKeyPrefix()).isEqualTo("sisk-sse");
			assertThat(context.getBean(SiskSseProperties.class).getRedis().getPresenceInterval())
				.isEqualTo(Duration.ofSeconds(1));
		});
	}

	@Test
	void brokerRedisGivesTheRegistryARedisEventLogOnBootsConnectionFactory() {
		this.contextRunner.withPropertyValues(redisProperties()).run((context) -> {
			assertThat(context).hasSingleBean(RedisEventLog.class);
			RedisEventLog log = context.getBean(RedisEventLog.class);
			assertThat(log.keyPrefix()).isEqualTo(this.prefix);
			// The registry started the log (the epoch exists) and appends through it.
			RedisConnectionFactory factory = context.getBean(RedisConnectionFactory.class);
			assertThat(get(factory, "{" + this.prefix + "}:epoch")).isNotNull();
			context.getBean(EventSourceRegistry.class).send("someone", "hello");
			try (RedisConnection connection = factory.getConnection()) {
				assertThat(connection.streamCommands().xLen(bytes("{" + this.prefix + "}:log"))).isEqualTo(1);
			}
		});
	}

	@Test
	void closingTheContextStopsTheLogWhileRedisCanStillBeReachedSoItWithdrawsItsPresence() {
		LettuceConnectionFactory admin = redis.connectionFactory();
		try (RedisConnection connection = admin.getConnection()) {
			byte[] instances = bytes("{" + this.prefix + "}:instances");
			this.contextRunner.withPropertyValues(redisProperties()).run((context) -> {
				byte[] instance = bytes(context.getBean(RedisEventLog.class).instance());
				await().atMost(Duration.ofSeconds(5))
					.until(() -> connection.zSetCommands().zScore(instances, instance) != null);
				context.close();
				// At once, not when its report expires five seconds later.
				assertThat(connection.zSetCommands().zScore(instances, instance)).isNull();
			});
		}
		finally {
			admin.destroy();
		}
	}

	@Test
	void aLogTheApplicationDefinesWins() {
		this.contextRunner.withPropertyValues(redisProperties())
			.withUserConfiguration(OwnLogConfiguration.class)
			.run((context) -> {
				assertThat(context).doesNotHaveBean(RedisEventLog.class);
				assertThat(context).doesNotHaveBean(EventLogHealthIndicator.class);
				assertThat(context.getBean(OwnLog.class).started).isTrue();
			});
	}

	@Test
	void brokerRedisWithoutSpringDataRedisFailsAtStartUpNamingTheProperty() {
		this.contextRunner.withPropertyValues("sisk.sse.broker=redis")
			.withClassLoader(new FilteredClassLoader(RedisConnectionFactory.class))
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).hasStackTraceContaining("sisk.sse.broker")
					.hasStackTraceContaining("spring-boot-starter-data-redis");
			});
	}

	@Test
	void aKeyPrefixWithBracesFailsAtStartUpNamingTheProperty() {
		this.contextRunner.withPropertyValues("sisk.sse.broker=redis", "sisk.sse.redis.key-prefix={app}")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure())
					.hasStackTraceContaining("sisk.sse.redis.key-prefix must not be empty nor contain braces");
			});
	}

	@Test
	void aPresenceIntervalOfZeroFailsAtStartUpNamingTheProperty() {
		this.contextRunner.withPropertyValues("sisk.sse.redis.presence-interval=0s").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure())
				.hasStackTraceContaining("sisk.sse.redis.presence-interval must be at least 1ms");
		});
	}

	@Test
	void notConfiguredOutsideAServletWebApplication() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class,
					SiskSseRedisAutoConfiguration.class, SiskSseAutoConfiguration.class))
			.withPropertyValues(redisProperties())
			.run((context) -> assertThat(context).doesNotHaveBean(EventLog.class));
	}

	@Test
	void healthIsDownAndFailedAppendsAreCountedWhileRedisCannotBeReachedAndUpOnceItIs() {
		try (EmbeddedRedis stopped = EmbeddedRedis.start()) {
			stopped.stop();
			this.contextRunner
				.withPropertyValues("sisk.sse.broker=redis", "spring.data.redis.port=" + stopped.port(),
						"sisk.sse.redis.key-prefix=" + this.prefix)
				.run((context) -> {
					// The application starts without Redis; the log keeps trying.
					EventLogHealthIndicator health = context.getBean(EventLogHealthIndicator.class);
					assertThat(health.health(true).getStatus()).isEqualTo(Status.DOWN);
					SimpleMeterRegistry meters = new SimpleMeterRegistry();
					context.getBean(RedisEventLogMetrics.class).bindTo(meters);
					EventSourceRegistry registry = context.getBean(EventSourceRegistry.class);
					assertThatExceptionOfType(EventLogException.class).isThrownBy(() -> registry.send("x", "lost"));
					assertThat(meters.get("sisk.sse.log.appends.failed").functionCounter().count()).isEqualTo(1);
					stopped.restart();
					await().atMost(Duration.ofSeconds(30))
						.until(() -> health.health(true).getStatus().equals(Status.UP));
				});
		}
	}

	@Test
	void theEventLogHealthIndicatorCanBeDisabled() {
		this.contextRunner.withPropertyValues(redisProperties())
			.withPropertyValues("management.health.eventlog.enabled=false")
			.run((context) -> {
				assertThat(context).hasSingleBean(RedisEventLog.class);
				assertThat(context).doesNotHaveBean(EventLogHealthIndicator.class);
			});
	}

	private String[] redisProperties() {
		return new String[] { "sisk.sse.broker=redis", "spring.data.redis.port=" + redis.port(),
				"sisk.sse.redis.key-prefix=" + this.prefix };
	}

	private static byte[] get(RedisConnectionFactory factory, String key) {
		try (RedisConnection connection = factory.getConnection()) {
			return connection.stringCommands().get(bytes(key));
		}
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	@Configuration(proxyBeanMethods = false)
	static class OwnLogConfiguration {

		@Bean
		OwnLog ownLog() {
			return new OwnLog();
		}

	}

	static class OwnLog implements EventLog {

		volatile boolean started;

		@Override
		public void start(Reader reader, Supplier<Map<String, Integer>> presence) {
			this.started = true;
			reader.epoch("own");
		}

		@Override
		public void append(Entry entry) {
		}

		@Override
		public void stop() {
		}

	}

}
