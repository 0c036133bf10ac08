package io.github.sisksse;

import java.time.Duration;
import java.util.List;

import io.github.sisksse.test.RawSseSocket;
import io.github.sisksse.test.SseClient;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.context.ApplicationEvent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What operations see: application events and Micrometer meters, over real HTTP.
 */
@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sisk.sse.queue.max-events=2", "sisk.sse.replay.enabled=true" })
class OperationsTests extends HttpTestSupport {

	@Autowired
	SseTestApplication.EventRecorder recorder;

	@Autowired
	MeterRegistry meters;

	@Test
	void openedAndClosedEventsFireExactlyOnceWithTheReason() throws Exception {
		try (SseClient client = connect("/open?id=watched")) {
			EventSource source = source("watched");
			source.close();
			source.close();
			await().atMost(WAIT).until(client::isEnded);
		}
		RawSseSocket socket = RawSseSocket.open(this.port, "/open?id=vanished");
		EventSource vanished = source("vanished");
		vanished.withPing((ping) -> ping.interval(Duration.ofMillis(100)).start());
		socket.vanish();
		CloseReason reason = vanished.whenClosed().get();
		await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
			.until(() -> eventsOf("watched").size() == 2 && eventsOf("vanished").size() == 2);
		assertThat(eventsOf("watched")).satisfiesExactly(
				(opened) -> assertThat(opened).isInstanceOf(EventSourceOpenedEvent.class),
				(closed) -> assertThat(((EventSourceClosedEvent) closed).getReason())
					.isEqualTo(CloseReason.CLOSED_BY_SERVER));
		assertThat(eventsOf("vanished")).last()
			.satisfies((closed) -> assertThat(((EventSourceClosedEvent) closed).getReason()).isEqualTo(reason));
	}

	@Test
	void metersExistAndMove() {
		double opened = count("sisk.sse.connections.opened");
		double events = count("sisk.sse.events.written");
		double bytes = count("sisk.sse.bytes.written");
		double closedByServer = this.meters.get("sisk.sse.connections.closed").tag("reason", "closed_by_server")
			.counter().count();
		double overflows = count("sisk.sse.queue.overflows");
		double pings = count("sisk.sse.pings");
		try (SseClient client = connect("/open?id=metered")) {
			EventSource source = source("metered");
			assertThat(this.meters.get("sisk.sse.connections").gauge().value()).isGreaterThanOrEqualTo(1);
			source.withPing((ping) -> ping.interval(Duration.ofMillis(50)).start());
			await().atMost(WAIT).until(() -> client.comments().contains("ping"));
			source.send("one");
			await().atMost(WAIT).until(() -> client.data().contains("one"));
			source.close();
			await().atMost(WAIT).until(client::isEnded);
		}
		try (SseClient client = connect("/burst?id=overflowing&count=3")) {
			await().atMost(WAIT).until(client::isEnded);
		}
		double hits = count("sisk.sse.replay.hits");
		double misses = count("sisk.sse.replay.misses");
		String position;
		try (SseClient client = connect("/open?id=replayed")) {
			await().atMost(WAIT).until(() -> !client.lastEventId().isEmpty());
			position = client.lastEventId();
		}
		try (SseClient resumed = connect("/open?id=replayed&lastEventId=" + position);
				SseClient lost = connect("/open?id=lost&lastEventId=unknown")) {
			await().atMost(WAIT).until(() -> !lost.events().isEmpty());
			source("replayed").close();
			source("lost").close();
		}
		await().atMost(WAIT).untilAsserted(() -> {
			assertThat(count("sisk.sse.connections.opened")).isEqualTo(opened + 5);
			assertThat(count("sisk.sse.events.written")).isGreaterThanOrEqualTo(events + 1);
			assertThat(count("sisk.sse.bytes.written")).isGreaterThan(bytes + "data: one\n\n".length());
			assertThat(count("sisk.sse.pings")).isGreaterThan(pings);
			assertThat(count("sisk.sse.queue.overflows")).isEqualTo(overflows + 1);
			assertThat(count("sisk.sse.replay.hits")).isEqualTo(hits + 1);
			assertThat(count("sisk.sse.replay.misses")).isEqualTo(misses + 1);
			assertThat(this.meters.get("sisk.sse.connections.closed").tag("reason", "closed_by_server").counter().count())
				.isEqualTo(closedByServer + 3);
			assertThat(this.meters.get("sisk.sse.connections.closed").tag("reason", "queue_overflow").counter().count())
				.isGreaterThanOrEqualTo(1);
		});
		assertThat(this.meters.find("sisk.sse.connections.closed").tagKeys("identifier").meters()).isEmpty();
	}

	private double count(String name) {
		return this.meters.get(name).counter().count();
	}

	private List<ApplicationEvent> eventsOf(String identifier) {
		return this.recorder.events.stream()
			.filter((event) -> identifier.equals(((EventSource) event.getSource()).identifier()))
			.toList();
	}

}
