package io.github.sisksse;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.github.sisksse.test.RawSseSocket;
import io.github.sisksse.test.SseClient;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.test.context.NestedTestConfiguration;
import org.springframework.test.context.NestedTestConfiguration.EnclosingConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The send path under slow clients, broadcasts and virtual threads, over real HTTP.
 */
@NestedTestConfiguration(EnclosingConfiguration.OVERRIDE)
class SendPathTests {

	private static final Duration WAIT = Duration.ofSeconds(10);

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.write-timeout=500ms", "sisk.sse.writer-threads=1",
					"sisk.sse.queue.max-bytes=64MB", "sisk.sse.ping.enabled=false" })
	class WriteTimeout extends HttpTestSupport {

		@Test
		void stuckClientIsClosedWhileOthersKeepReceivingEvenWithASingleWriterThread() throws Exception {
			try (SseClient healthy = SseClient.connect(this.port, "/open?id=healthy");
					RawSseSocket stalled = RawSseSocket.open(this.port, "/open?id=stalled", 1024)) {
				EventSource stuck = source("stalled");
				String chunk = "x".repeat(256 * 1024);
				// On a busy machine the write timeout may end it before all are sent: then they are refused.
				for (int i = 0; i < 40; i++) {
					stuck.send(chunk);
				}
				EventSource receiving = source("healthy");
				receiving.send("after the stall");
				await().atMost(WAIT).until(() -> healthy.data().contains("after the stall"));
				assertThat(stuck.whenClosed()).succeedsWithin(WAIT).isEqualTo(CloseReason.WRITE_TIMEOUT);
				assertThat(this.registry.get("stalled")).isEmpty();
				for (int i = 0; i < 50; i++) {
					receiving.send("healthy " + i);
				}
				await().atMost(WAIT).until(() -> healthy.data().contains("healthy 49"));
				assertThat(healthy.data()).containsSubsequence("healthy 0", "healthy 1", "healthy 48", "healthy 49");
				stalled.vanish();
			}
			this.registry.all().forEach(EventSource::close);
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
	class Broadcast extends HttpTestSupport {

		@Test
		void broadcastSerialisesThePayloadOnceAndQueuesItForEveryMatchingSource() {
			try (SseClient one = SseClient.connect(this.port, "/open?id=room-1/a");
					SseClient two = SseClient.connect(this.port, "/open?id=room-1/b");
					SseClient other = SseClient.connect(this.port, "/open?id=room-2/a");
					SseClient anonymous = SseClient.connect(this.port, "/open")) {
				source("room-2/a");
				CountedPayload payload = new CountedPayload();
				assertThat(this.registry.broadcast(payload, (id) -> id.startsWith("room-1/"))).isEqualTo(2);
				assertThat(payload.serialisations).hasValue(1);
				await().atMost(WAIT).until(() -> one.data().contains("{\"value\":\"v\"}")
						&& two.data().contains("{\"value\":\"v\"}"));
				CountedPayload toAll = new CountedPayload();
				assertThat(this.registry.broadcast(toAll)).isEqualTo(4);
				assertThat(toAll.serialisations).hasValue(1);
				await().atMost(WAIT).until(() -> other.data().size() == 1 && anonymous.data().size() == 1
						&& one.data().size() == 2);
			}
			this.registry.all().forEach(EventSource::close);
		}

	}

	@Nested
	@EnabledForJreRange(min = JRE.JAVA_21)
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "spring.threads.virtual.enabled=true")
	class VirtualThreads extends HttpTestSupport {

		@Test
		void writesRunOnVirtualThreadsWhenTheApplicationUsesThem() throws Exception {
			try (SseClient client = SseClient.connect(this.port, "/open?id=virtual")) {
				EventSource source = source("virtual");
				for (int i = 0; i < 100; i++) {
					source.send("v" + i);
				}
				AtomicReference<Object> virtual = new AtomicReference<>();
				// A graceful close completes on the writer thread, once the queued events are written.
				source.whenClosed().thenRun(() -> virtual.set(isVirtual(Thread.currentThread())));
				source.close();
				await().atMost(WAIT).until(client::isEnded);
				assertThat(client.data()).hasSize(100).endsWith("v99");
				await().atMost(WAIT).until(() -> virtual.get() != null);
				assertThat(virtual.get()).isEqualTo(true);
			}
		}

		private static Object isVirtual(Thread thread) {
			try {
				return Thread.class.getMethod("isVirtual").invoke(thread);
			}
			catch (ReflectiveOperationException ex) {
				return ex;
			}
		}

	}

	/**
	 * Counts how often it is serialised: Jackson reads its property once per serialisation.
	 */
	static final class CountedPayload {

		final AtomicInteger serialisations = new AtomicInteger();

		public String getValue() {
			this.serialisations.incrementAndGet();
			return "v";
		}

	}

}
