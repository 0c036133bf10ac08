package io.github.sisksse;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * The registry on its own, outside a request: what does not need HTTP to be seen.
 */
class RegistryTests {

	private final Map<EventSource, List<String>> heard = new ConcurrentHashMap<>();

	// No request will bind these sources: a graceful close completes once the bind deadline ends them.
	private final DefaultEventSourceRegistry registry = (DefaultEventSourceRegistry) EventSourceRegistry.builder()
		.bindTimeout(Duration.ofMillis(200))
		.listener(new EventSourceListener() {

			@Override
			public void onOpen(EventSource source) {
				heardBy(source).add("open");
			}

			@Override
			public void onClose(EventSource source, CloseReason reason) {
				heardBy(source).add("close " + reason);
			}

		})
		.build();

	private List<String> heardBy(EventSource source) {
		return this.heard.computeIfAbsent(source, (key) -> new CopyOnWriteArrayList<>());
	}

	@AfterEach
	void destroy() throws Exception {
		this.registry.destroy();
	}

	@Test
	void broadcastDoesNotStopAControllerFromAddingHeaders() {
		// Its own registry: the shared one's bind deadline could end the source before the events are delivered.
		DefaultEventSourceRegistry patient = (DefaultEventSourceRegistry) EventSourceRegistry.builder().build();
		try {
			EventSource source = patient.open();
			assertThat(patient.broadcast("to everyone")).isEqualTo(1);
			await().atMost(Duration.ofSeconds(5)).until(() -> source.info().queuedEvents() == 1);
			source.header("X-Still-Allowed", "yes");
			assertThat(source.send("own event")).isTrue();
			await().atMost(Duration.ofSeconds(5)).until(() -> source.info().queuedEvents() == 2);
		}
		finally {
			patient.destroy();
		}
	}

	@Test
	void listenersHearTheOpenBeforeTheCloseAndEachOnce() {
		EventSource first = this.registry.open("user");
		EventSource second = this.registry.open("user");
		second.close();
		assertThat(first.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.REPLACED);
		assertThat(second.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.CLOSED_BY_SERVER);
		await().atMost(Duration.ofSeconds(5)).until(() -> heardBy(first).size() == 2 && heardBy(second).size() == 2);
		assertThat(heardBy(first)).containsExactly("open", "close REPLACED");
		assertThat(heardBy(second)).containsExactly("open", "close CLOSED_BY_SERVER");
	}

	@Test
	void presenceCountsTheIdentifiedConnectionsOfThisInstanceWithoutASharedLog() {
		this.registry.open();
		this.registry.open("someone");
		assertThat(this.registry.presence()).containsExactly(Map.entry("someone", 1));
		assertThat(this.registry.send("someone", "hello")).isEqualTo(1);
		assertThat(this.registry.send("nobody", "hello")).isZero();
	}

	@Test
	void connectionCountFollowsOpenAndEnd() {
		EventSource anonymous = this.registry.open();
		EventSource identified = this.registry.open("someone");
		assertThat(this.registry.connectionCount()).isEqualTo(2);
		assertThat(this.registry.size()).isEqualTo(1);
		anonymous.close();
		identified.close();
		assertThat(anonymous.isOpen()).isFalse();
		assertThat(identified.isOpen()).isFalse();
		// Removed once the log reaches the close, before the graceful close completes (nothing is bound here).
		await().atMost(Duration.ofSeconds(5)).until(() -> this.registry.connectionCount() == 0);
		assertThat(this.registry.size()).isZero();
		assertThat(anonymous.whenClosed()).isNotDone();
	}

}
