package io.github.sisksse;

import java.time.Duration;

import io.github.sisksse.test.SseClient;
import io.github.sisksse.test.SseEvent;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.test.context.NestedTestConfiguration;
import org.springframework.test.context.NestedTestConfiguration.EnclosingConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Behaviour chosen by {@code sisk.sse.*} properties, each over real HTTP with the properties it needs.
 */
@NestedTestConfiguration(EnclosingConfiguration.OVERRIDE)
class EventSourcePolicyTests {

	private static final Duration WAIT = HttpTestSupport.WAIT;

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.max-lifetime=600ms", "sisk.sse.close-event.name=close", "sisk.sse.retry=2500ms",
					"sisk.sse.ping.interval=100ms", "sisk.sse.ping.format=event", "sisk.sse.ping.event-name=heartbeat",
					"sisk.sse.ping.message=thump" })
	class Lifetime extends HttpTestSupport {

		@Test
		void sourceIsClosedAtItsMaximumLifetimeWithoutTheCloseEvent() {
			try (SseClient client = connect("/open?id=short-lived")) {
				EventSource source = source("short-lived");
				assertThat(source.whenClosed()).succeedsWithin(WAIT).isEqualTo(CloseReason.LIFETIME_EXPIRED);
				assertThat(this.registry.get("short-lived")).isEmpty();
				await().atMost(WAIT).until(client::isEnded);
				assertThat(client.events()).extracting(SseEvent::type).doesNotContain("close");
			}
		}

		@Test
		void retryIsSentAtOpenAndPingsFollowTheConfiguredFormat() {
			try (SseClient client = connect("/open?id=configured")) {
				await().atMost(WAIT).until(() -> client.retry() != null && client.events().stream()
					.anyMatch((event) -> event.type().equals("heartbeat") && event.data().equals("thump")));
				assertThat(client.retry()).isEqualTo(2500L);
			}
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.wait-for-fail=300ms", "sisk.sse.ping.interval=50ms" })
	class WaitForFailByDefault extends HttpTestSupport {

		@Test
		void everySourceStartsWithTheConfiguredIdleTimeoutAndPingsDoNotResetIt() {
			try (SseClient client = connect("/open?id=idle-by-default")) {
				EventSource source = source("idle-by-default");
				assertThat(source.whenClosed()).succeedsWithin(WAIT).isEqualTo(CloseReason.IDLE_TIMEOUT);
				await().atMost(WAIT).until(client::isEnded);
				assertThat(client.comments()).contains("ping");
			}
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "sisk.sse.duplicate-identifier=reject")
	class RejectDuplicates extends HttpTestSupport {

		@Test
		void secondSourceWithTheSameIdentifierIsAnsweredWithConflict() {
			try (SseClient first = connect("/open?id=only-one"); SseClient second = connect("/open?id=only-one")) {
				assertThat(first.status()).isEqualTo(200);
				assertThat(second.status()).isEqualTo(409);
				EventSource source = source("only-one");
				assertThat(source.isOpen()).isTrue();
				source.send("still the first");
				await().atMost(WAIT).until(() -> first.data().contains("still the first"));
				source.close();
			}
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "sisk.sse.duplicate-identifier=allow")
	class AllowDuplicates extends HttpTestSupport {

		@Test
		void severalSourcesShareAnIdentifierAndGetReturnsTheNewest() {
			try (SseClient tab1 = connect("/open?id=user-7"); SseClient tab2 = connect("/open?id=user-7")) {
				await().atMost(WAIT).until(() -> this.registry.find("user-7"::equals).size() == 2);
				assertThat(this.registry.all()).hasSize(2);
				assertThat(this.registry.size()).isEqualTo(2);
				this.registry.get("user-7").orElseThrow().send("newest only");
				this.registry.find("user-7"::equals).forEach((tab) -> tab.send("every tab"));
				await().atMost(WAIT).until(() -> tab1.data().contains("every tab") && tab2.data().contains("every tab"));
				assertThat(tab2.data()).containsExactly("newest only", "every tab");
				assertThat(tab1.data()).containsExactly("every tab");
				EventSource newest = this.registry.get("user-7").orElseThrow();
				newest.close();
				assertThat(this.registry.find("user-7"::equals)).hasSize(1).doesNotContain(newest);
				this.registry.all().forEach(EventSource::close);
			}
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.queue.max-events=3", "sisk.sse.queue.overflow=close" })
	class OverflowClose extends HttpTestSupport {

		@Test
		void eventBeyondTheQueueLimitClosesTheSource() {
			try (SseClient client = connect("/burst?id=flooded&count=5")) {
				// Sent while open, the first four are accepted; the fourth overflows when delivered, and closes the
				// source, which then refuses the fifth unless it was sent before.
				assertThat(this.controller.accepted.get("flooded")).startsWith(true, true, true, true);
				await().atMost(WAIT).until(client::isEnded);
				assertThat(client.events()).isEmpty();
				assertThat(this.registry.get("flooded")).isEmpty();
			}
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.queue.max-events=3", "sisk.sse.queue.overflow=drop-oldest" })
	class OverflowDropOldest extends HttpTestSupport {

		@Test
		void oldestEventsAreDroppedToMakeRoom() {
			try (SseClient client = connect("/burst?id=lossy&count=5")) {
				assertThat(this.controller.accepted.get("lossy")).containsOnly(true);
				await().atMost(WAIT).until(() -> client.data().size() == 3);
				assertThat(client.data()).containsExactly("e2", "e3", "e4");
				source("lossy").close();
			}
		}

	}

}
