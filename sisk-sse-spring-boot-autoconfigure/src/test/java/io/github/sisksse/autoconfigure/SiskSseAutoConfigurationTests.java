package io.github.sisksse.autoconfigure;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.sisksse.CloseReason;
import io.github.sisksse.DuplicateIdentifierPolicy;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.OverflowPolicy;
import io.github.sisksse.PingPolicy;
import io.github.sisksse.actuate.EventSourcesEndpoint;
import io.github.sisksse.actuate.EventSourcesHealthIndicator;
import io.github.sisksse.micrometer.EventSourceMetrics;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.task.TaskSchedulingAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.util.unit.DataSize;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link SiskSseAutoConfiguration}.
 */
@ExtendWith(OutputCaptureExtension.class)
class SiskSseAutoConfigurationTests {

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(SiskSseAutoConfiguration.class, SiskSseActuatorAutoConfiguration.class,
				TaskSchedulingAutoConfiguration.class));

	@Test
	void registryIsAutoConfiguredWithDefaults() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(EventSourceRegistry.class);
			SiskSseProperties properties = context.getBean(SiskSseProperties.class);
			assertThat(properties.isEnabled()).isTrue();
			assertThat(properties.getPing().isEnabled()).isTrue();
			assertThat(properties.getPing().getInterval()).isEqualTo(Duration.ofSeconds(15));
			assertThat(properties.getPing().getFormat()).isEqualTo(PingPolicy.Format.COMMENT);
			assertThat(properties.getPing().getMessage()).isEqualTo("ping");
			assertThat(properties.getPing().isResetsWaitForFail()).isFalse();
			assertThat(properties.getWaitForFail()).isNull();
			assertThat(properties.getMaxLifetime()).isNull();
			assertThat(properties.getRetry()).isNull();
			assertThat(properties.getCloseEvent().getName()).isNull();
			assertThat(properties.getDuplicateIdentifier()).isEqualTo(DuplicateIdentifierPolicy.REPLACE);
			assertThat(properties.getQueue().getMaxEvents()).isEqualTo(1000);
			assertThat(properties.getQueue().getMaxBytes()).isEqualTo(DataSize.ofMegabytes(1));
			assertThat(properties.getQueue().getOverflow()).isEqualTo(OverflowPolicy.CLOSE);
			assertThat(properties.getWriteTimeout()).isEqualTo(Duration.ofSeconds(30));
			assertThat(properties.getWriterThreads()).isEqualTo(2);
			assertThat(properties.getBindTimeout()).isEqualTo(Duration.ofSeconds(10));
			assertThat(context).doesNotHaveBean(TaskScheduler.class);
		});
	}

	@Test
	void propertiesAreBoundFromSiskSse() {
		this.contextRunner
			.withPropertyValues("sisk.sse.ping.interval=5s", "sisk.sse.ping.format=data",
					"sisk.sse.ping.message=ping-message", "sisk.sse.wait-for-fail=15s", "sisk.sse.max-lifetime=1h",
					"sisk.sse.retry=3s", "sisk.sse.close-event.name=close", "sisk.sse.duplicate-identifier=allow",
					"sisk.sse.queue.max-bytes=64KB", "sisk.sse.queue.overflow=drop-oldest")
			.run((context) -> {
				assertThat(context).hasSingleBean(EventSourceRegistry.class);
				SiskSseProperties properties = context.getBean(SiskSseProperties.class);
				assertThat(properties.getPing().getInterval()).isEqualTo(Duration.ofSeconds(5));
				assertThat(properties.getPing().getFormat()).isEqualTo(PingPolicy.Format.DATA);
				assertThat(properties.getWaitForFail()).isEqualTo(Duration.ofSeconds(15));
				assertThat(properties.getMaxLifetime()).isEqualTo(Duration.ofHours(1));
				assertThat(properties.getDuplicateIdentifier()).isEqualTo(DuplicateIdentifierPolicy.ALLOW);
				assertThat(properties.getQueue().getMaxBytes()).isEqualTo(DataSize.ofKilobytes(64));
				assertThat(properties.getQueue().getOverflow()).isEqualTo(OverflowPolicy.DROP_OLDEST);
			});
	}

	@Test
	void userDefinedRegistryWins() {
		EventSourceRegistry own = EventSourceRegistry.builder().pingEnabled(false).build();
		this.contextRunner.withBean(EventSourceRegistry.class, () -> own).run((context) -> {
			assertThat(context).hasSingleBean(EventSourceRegistry.class);
			assertThat(context.getBean(EventSourceRegistry.class)).isSameAs(own);
		});
	}

	@Test
	void backsOffWhenDisabled() {
		this.contextRunner.withPropertyValues("sisk.sse.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(EventSourceRegistry.class)
				.doesNotHaveBean(SiskSseProperties.class));
	}

	@Test
	void backsOffOutsideAWebApplication() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(SiskSseAutoConfiguration.class, TaskSchedulingAutoConfiguration.class))
			.run((context) -> assertThat(context).doesNotHaveBean(EventSourceRegistry.class));
	}

	@Test
	void backsOffWithoutSseEmitter() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(SseEmitter.class))
			.run((context) -> assertThat(context).doesNotHaveBean(EventSourceRegistry.class));
	}

	@Test
	void keepsItsTimersOffTheApplicationsSharedScheduler() {
		this.contextRunner.withUserConfiguration(SchedulingConfiguration.class).run((context) -> {
			CountingScheduler shared = context.getBean("taskScheduler", CountingScheduler.class);
			EventSource source = context.getBean(EventSourceRegistry.class).open();
			source.close();
			assertThat(shared.scheduled).hasValue(0);
		});
	}

	@Test
	void usesTheSchedulerTheApplicationNamesForIt() {
		this.contextRunner.withUserConfiguration(NamedSchedulerConfiguration.class).run((context) -> {
			CountingScheduler named = context.getBean(SiskSseAutoConfiguration.SCHEDULER_BEAN_NAME,
					CountingScheduler.class);
			EventSource source = context.getBean(EventSourceRegistry.class).open();
			source.close();
			// The write-timeout watchdog, then the source's bind deadline and ping.
			assertThat(named.scheduled.get()).isGreaterThanOrEqualTo(3);
		});
	}

	@Test
	void metricsAndApplicationEventsAreListenersOfTheRegistry() {
		this.contextRunner.run((context) -> assertThat(context).hasSingleBean(EventSourceMetrics.class)
			.hasBean("eventSourceApplicationEvents"));
	}

	@Test
	void replayIsOptInAndBoundedForTheWholeRegistry() {
		this.contextRunner.run((context) -> assertThat(context.getBean(SiskSseProperties.class).getReplay())
			.returns(false, SiskSseProperties.Replay::isEnabled)
			.returns(10_000, SiskSseProperties.Replay::getMaxEvents)
			.returns(org.springframework.util.unit.DataSize.ofMegabytes(16), SiskSseProperties.Replay::getMaxBytes));
		this.contextRunner
			.withPropertyValues("sisk.sse.replay.enabled=true", "sisk.sse.replay.max-events=7",
					"sisk.sse.replay.max-bytes=1MB")
			.run((context) -> assertThat(context).hasNotFailed().hasSingleBean(EventSourceRegistry.class));
		this.contextRunner.withPropertyValues("sisk.sse.replay.enabled=true", "sisk.sse.replay.max-bytes=0")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).hasStackTraceContaining("sisk.sse.replay.max-bytes must be positive");
			});
	}

	@Test
	void noMetricsWithoutMicrometer() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(MeterBinder.class))
			.run((context) -> assertThat(context).hasSingleBean(EventSourceRegistry.class)
				.doesNotHaveBean(EventSourceMetrics.class));
	}

	@Test
	void applicationEventsCanBeSwitchedOff() {
		this.contextRunner.withPropertyValues("sisk.sse.application-events=false")
			.run((context) -> assertThat(context).doesNotHaveBean("eventSourceApplicationEvents"));
	}

	@Test
	void endpointOnlyWhenExposedAndHealthIndicatorByDefault() {
		this.contextRunner.run((context) -> assertThat(context).doesNotHaveBean(EventSourcesEndpoint.class)
			.hasSingleBean(EventSourcesHealthIndicator.class));
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=eventsources")
			.run((context) -> assertThat(context).hasSingleBean(EventSourcesEndpoint.class));
		this.contextRunner.withPropertyValues("management.health.eventsources.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(EventSourcesHealthIndicator.class));
	}

	@Test
	void warnsAtStartupWhenStreamsCouldTakeAllOfTomcatsConnections(CapturedOutput output) {
		// Jetty is on this module's test classpath too (for sisk.sse.server.send-buffer); with it, Boot runs Jetty.
		this.contextRunner.withClassLoader(new FilteredClassLoader("org.eclipse.jetty"))
			.withPropertyValues("sisk.sse.max-connections=9000")
			.run((context) -> assertThat(output).contains("Event streams can take all 8192 of Tomcat's connections")
				.contains("(now 9000)"));
	}

	@Test
	void doesNotWarnWhenStreamsAreLimitedBelowTomcat(CapturedOutput output) {
		this.contextRunner.withClassLoader(new FilteredClassLoader("org.eclipse.jetty"))
			.withPropertyValues("sisk.sse.max-connections=8000")
			.run((context) -> assertThat(output).doesNotContain("Event streams can take all"));
	}

	@Test
	void doesNotWarnWhenJettyRuns(CapturedOutput output) {
		this.contextRunner.withPropertyValues("sisk.sse.max-connections=9000")
			.run((context) -> assertThat(output).doesNotContain("Event streams can take all"));
	}

	@Test
	void closesEverySourceWhenTheContextCloses() {
		EventSource[] opened = new EventSource[2];
		this.contextRunner.run((context) -> {
			EventSourceRegistry registry = context.getBean(EventSourceRegistry.class);
			opened[0] = registry.open("user-1");
			opened[1] = registry.open();
		});
		assertThat(opened[0].whenClosed()).isCompletedWithValue(CloseReason.SHUTDOWN);
		assertThat(opened[1].whenClosed()).isCompletedWithValue(CloseReason.SHUTDOWN);
	}

	@Test
	void invalidDurationFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("sisk.sse.ping.interval=0s").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasStackTraceContaining("sisk.sse.ping.interval must be positive");
		});
	}

	@Test
	void lineBreakInCloseEventNameFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("sisk.sse.close-event.name=a\nb").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure())
				.hasStackTraceContaining("sisk.sse.close-event.name must not contain CR or LF");
		});
	}

	@Test
	void unknownPolicyFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("sisk.sse.duplicate-identifier=sometimes").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasStackTraceContaining("sisk.sse.duplicate-identifier");
		});
	}

	@Test
	void zeroQueueLimitFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("sisk.sse.queue.max-events=0").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasStackTraceContaining("sisk.sse.queue.max-events must be at least 1");
		});
	}

	@Configuration(proxyBeanMethods = false)
	@EnableScheduling
	static class SchedulingConfiguration {

		@Bean
		CountingScheduler taskScheduler() {
			return new CountingScheduler();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class NamedSchedulerConfiguration {

		@Bean(SiskSseAutoConfiguration.SCHEDULER_BEAN_NAME)
		CountingScheduler siskSseTaskScheduler() {
			return new CountingScheduler();
		}

	}

	/**
	 * A scheduler that counts what it is given.
	 */
	static class CountingScheduler extends ThreadPoolTaskScheduler {

		final AtomicInteger scheduled = new AtomicInteger();

		CountingScheduler() {
			initialize();
		}

		@Override
		public ScheduledFuture<?> schedule(Runnable task, Instant startTime) {
			this.scheduled.incrementAndGet();
			return super.schedule(task, startTime);
		}

		@Override
		public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Duration delay) {
			this.scheduled.incrementAndGet();
			return super.scheduleWithFixedDelay(task, delay);
		}

	}

}
