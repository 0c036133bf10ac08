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
		EventSource source = this.registry.open();
		assertThat(this.registry.broadcast("to everyone")).isEqualTo(1);
		source.header("X-Still-Allowed", "yes");
		assertThat(source.send("own event")).isTrue();
		assertThat(source.info().queuedEvents()).isEqualTo(2);
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
	void aFailingHistoryLeavesNoSourceBehind() throws Exception {
		java.util.concurrent.atomic.AtomicBoolean down = new java.util.concurrent.atomic.AtomicBoolean();
		DefaultEventSourceRegistry failing = (DefaultEventSourceRegistry) EventSourceRegistry.builder()
			.bindTimeout(Duration.ofMillis(200))
			.replay(new EventHistory() {

				@Override
				public long nextId(String stream) {
					if (down.get()) {
						throw new IllegalStateException("store down");
					}
					return 1;
				}

				@Override
				public void add(String stream, StoredEvent event) {
				}

				@Override
				public java.util.Optional<List<StoredEvent>> after(String stream, String lastEventId) {
					return java.util.Optional.empty();
				}

			}, Duration.ofMinutes(1), "sisk-reset")
			.build();
		try {
			EventSource earlier = failing.open("someone");
			down.set(true);
			assertThatIllegalStateException().isThrownBy(() -> failing.open("someone")).withMessage("store down");
			assertThat(failing.get("someone")).isEmpty();
			// The source the failed one replaced is ended too, and both places are released.
			assertThat(earlier.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.REPLACED);
			assertThat(failing.connectionCount()).isZero();
		}
		finally {
			failing.destroy();
		}
	}

	@Test
	void connectionCountFollowsOpenAndEnd() {
		EventSource anonymous = this.registry.open();
		EventSource identified = this.registry.open("someone");
		assertThat(this.registry.connectionCount()).isEqualTo(2);
		assertThat(this.registry.size()).isEqualTo(1);
		anonymous.close();
		identified.close();
		// Removed at once, before the graceful close completes.
		assertThat(this.registry.connectionCount()).isZero();
		assertThat(this.registry.size()).isZero();
	}

}
