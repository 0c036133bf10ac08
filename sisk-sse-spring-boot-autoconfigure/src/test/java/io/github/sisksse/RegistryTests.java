package io.github.sisksse;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The registry on its own, outside a request: what does not need HTTP to be seen.
 */
class RegistryTests {

	private final List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();

	private final DefaultEventSourceRegistry registry = (DefaultEventSourceRegistry) EventSourceRegistry.builder()
		.listener(new EventSourceListener() {

			@Override
			public synchronized void onOpen(EventSource source) {
				RegistryTests.this.heard.add("open " + source.identifier());
			}

			@Override
			public synchronized void onClose(EventSource source, CloseReason reason) {
				RegistryTests.this.heard.add("close " + source.identifier() + " " + reason);
			}

		})
		.build();

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
		// Graceful closes complete on a writer thread.
		assertThat(first.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.REPLACED);
		assertThat(second.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.CLOSED_BY_SERVER);
		await().atMost(Duration.ofSeconds(5)).until(() -> this.heard.size() == 4);
		assertThat(this.heard).containsExactly("open user", "close user REPLACED", "open user",
				"close user CLOSED_BY_SERVER");
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
