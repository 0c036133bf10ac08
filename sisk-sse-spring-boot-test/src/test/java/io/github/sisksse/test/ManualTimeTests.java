package io.github.sisksse.test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.sisksse.CloseReason;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.autoconfigure.SiskSseAutoConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.context.annotation.Bean;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.test.web.servlet.MockMvc;

import static io.github.sisksse.test.SseAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;

/**
 * Pings, idle timeouts and lifetimes of minutes, driven in a test that takes no such time: the registry runs on
 * the manual scheduler of the README's recipe.
 */
@SpringBootTest(classes = { KitTestApplication.class, ManualTimeTests.ManualTime.class },
		properties = { "sisk.sse.ping.interval=15s", "sisk.sse.wait-for-fail=1m", "sisk.sse.max-lifetime=10m",
				"sisk.sse.retry=2s", "sisk.sse.close-event.name=close" })
@AutoConfigureMockMvc
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ManualTimeTests {

	@Autowired
	MockMvc mockMvc;

	@Autowired
	EventSourceRegistry registry;

	@Autowired
	@Qualifier(SiskSseAutoConfiguration.SCHEDULER_BEAN_NAME)
	ManualTaskScheduler scheduler;

	@Autowired
	ManualTime manualTime;

	@Test
	void pingsOnlyAfterTheIntervalWithoutWrites() throws Exception {
		MockMvcSse stream = open("pinged");
		this.scheduler.advance(Duration.ofSeconds(14));
		this.registry.send("pinged", "at 14s");
		// A ping queued at 14 s would have been written before this event.
		assertThat(stream).receives("at 14s");
		assertThat(stream.comments()).doesNotContain("ping");
		// The event postponed the ping: 15 s after it, not after the open.
		this.scheduler.advance(Duration.ofSeconds(14));
		this.registry.send("pinged", "at 28s");
		assertThat(stream).receives("at 28s");
		assertThat(stream.comments()).doesNotContain("ping");
		this.scheduler.advance(Duration.ofSeconds(15));
		assertThat(stream).receivesComment("ping").isOpen();
	}

	@Test
	void closesAStreamIdleForTheWaitForFailTime() throws Exception {
		MockMvcSse stream = open("idle");
		EventSource source = this.registry.get("idle").orElseThrow();
		this.scheduler.advance(Duration.ofSeconds(59));
		assertThat(source.isOpen()).isTrue();
		this.scheduler.advance(Duration.ofSeconds(1));
		assertThat(source.isOpen()).isFalse();
		assertThat(stream).receivesEvent("close").isClosedByServer();
		assertThat(source.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.IDLE_TIMEOUT);
	}

	@Test
	void endsAStreamAtTheEndOfItsLifetime() throws Exception {
		MockMvcSse stream = open("long-lived");
		EventSource source = this.registry.get("long-lived").orElseThrow();
		source.keepAlive();
		this.scheduler.advance(Duration.ofMinutes(9));
		assertThat(source.isOpen()).isTrue();
		this.scheduler.advance(Duration.ofMinutes(1));
		assertThat(stream).isClosedByServer();
		assertThat(source.whenClosed()).succeedsWithin(Duration.ofSeconds(5))
			.isEqualTo(CloseReason.LIFETIME_EXPIRED);
		assertThat(stream.events()).extracting(SseEvent::type).doesNotContain("close");
	}

	@Test
	void leavesTheApplicationsScheduledMethodsOnSpringBootsScheduler() {
		await().atMost(Duration.ofSeconds(10)).until(() -> this.manualTime.runs.get() > 0);
	}

	/**
	 * Open a stream and wait for its first bytes: the registry stamps writes with the scheduler's time when they
	 * happen, so time moves only once the stream has started.
	 */
	private MockMvcSse open(String id) throws Exception {
		MockMvcSse stream = MockMvcSse.of(this.mockMvc.perform(get("/open?id=" + id)).andReturn());
		assertThat(stream).hasRetry(2000);
		return stream;
	}

	/**
	 * The README's recipe, in an application that also has a {@code @Scheduled} method.
	 */
	@TestConfiguration(proxyBeanMethods = false)
	@EnableScheduling
	static class ManualTime {

		final AtomicInteger runs = new AtomicInteger();

		@Bean(name = SiskSseAutoConfiguration.SCHEDULER_BEAN_NAME, defaultCandidate = false)
		ManualTaskScheduler siskSseTaskScheduler() {
			return new ManualTaskScheduler();
		}

		@Scheduled(fixedDelay = 10)
		void applicationJob() {
			this.runs.incrementAndGet();
		}

	}

}
