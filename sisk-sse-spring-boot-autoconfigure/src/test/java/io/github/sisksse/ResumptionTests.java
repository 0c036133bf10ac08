package io.github.sisksse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.http.converter.HttpMessageConverters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a joining connection is owed, without a server or a dispatcher: a copy of the log fed by hand, and sources
 * of a registry that never delivers to them.
 */
class ResumptionTests {

	private static final Publication.Target ALL = new Publication.All();

	private final DefaultEventSourceRegistry registry = (DefaultEventSourceRegistry) EventSourceRegistry.builder()
		.pingEnabled(false)
		.build();

	private final EventEncoder encoder = new EventEncoder(
			() -> HttpMessageConverters.forServer().registerDefaults().build());

	private final List<String> replays = new CopyOnWriteArrayList<>();

	private final Listeners listeners = new Listeners(List.of(new EventSourceListener() {

		@Override
		public void onReplay(EventSource source, String lastEventId, int replayed) {
			ResumptionTests.this.replays.add(lastEventId + ":" + replayed);
		}

	}));

	private final PublicationLog log = new PublicationLog(100, 1 << 20, Duration.ofMinutes(1));

	private long position;

	@BeforeEach
	void startTheLog() {
		this.log.epoch("e1");
	}

	@AfterEach
	void destroy() {
		this.registry.destroy();
	}

	@Test
	void aClientBehindIsOwedWhatWasMeantForItsStreamSinceItsPosition() {
		DefaultEventSource source = source("user");
		publish(ALL, null);
		publish(new Publication.Stream("other"), null);
		publish(new Publication.Stream("user"), null);
		publish(new Publication.Prefix("us"), null);
		Resumption.Plan plan = resumption(false).plan(source, this.log.resume("e1-1"), 4, 1, 4);
		assertThat(plan.lost()).isFalse();
		assertThat(plan.missed()).extracting(Publication::position).containsExactly(3L, 4L);
		assertThat(plan).extracting(Resumption.Plan::generation, Resumption.Plan::position).containsExactly(1, 4L);
	}

	@Test
	void aClientWhoseMissedEntriesWereForgottenIsLostAndResumesLive() {
		PublicationLog small = new PublicationLog(2, 1 << 20, Duration.ofMinutes(1));
		small.epoch("e1");
		for (int i = 1; i <= 5; i++) {
			small.dispatched(small.accept(i, ALL, null, bytes("event " + i)));
		}
		Resumption resumption = new Resumption(small, this.encoder, false, "reset", this.listeners);
		Resumption.Plan plan = resumption.plan(source("user"), small.resume("e1-1"), 5, 1, 5);
		assertThat(plan).isEqualTo(new Resumption.Plan(List.of(), true, 1, 5));
	}

	@Test
	void aClientOfAnEpochThatWasLostResumesInTheNewOneFromItsEnd() {
		DefaultEventSource source = source("user");
		publish(ALL, null);
		PublicationLog.Resume before = this.log.resume("e1-1");
		this.log.epoch("e2");
		this.position = 0;
		publish(ALL, null);
		publish(ALL, null);
		Resumption.Plan plan = resumption(false).plan(source, before, 3, 2, 2);
		assertThat(plan).isEqualTo(new Resumption.Plan(List.of(), true, 2, 2));
	}

	@Test
	void aClientAheadOfThisCopyOfTheLogIsOwedNothing() {
		DefaultEventSource source = source("user");
		publish(ALL, null);
		Resumption.Plan plan = resumption(false).plan(source, new PublicationLog.Resume(1, 7, null), 1, 1, 1);
		assertThat(plan).isEqualTo(new Resumption.Plan(List.of(), false, 1, 7));
	}

	@Test
	void theApplicationsOwnIdIsLookedUpAmongTheEntriesOfTheStream() {
		DefaultEventSource source = source("user");
		publish(ALL, null);
		publish(new Publication.Stream("user"), "custom-2");
		publish(new Publication.Stream("other"), "custom-3");
		publish(ALL, null);
		Resumption resumption = resumption(false);
		Resumption.Plan plan = resumption.plan(source, this.log.resume("custom-2"), 4, 1, 4);
		assertThat(plan.lost()).isFalse();
		assertThat(plan.missed()).extracting(Publication::position).containsExactly(4L);
		// Another stream's id is not this stream's position: lost, and live from here.
		Resumption.Plan other = resumption.plan(source, this.log.resume("custom-3"), 4, 1, 4);
		assertThat(other).isEqualTo(new Resumption.Plan(List.of(), true, 1, 4));
	}

	@Test
	void aPredicateThatFailsCountsAsNotOwed() {
		DefaultEventSource source = source("user");
		publish(new Publication.Matching((identifier) -> {
			throw new IllegalStateException("boom");
		}), null);
		publish(ALL, null);
		Resumption.Plan plan = resumption(false).plan(source, new PublicationLog.Resume(1, 0, null), 2, 1, 2);
		assertThat(plan.lost()).isFalse();
		assertThat(plan.missed()).extracting(Publication::position).containsExactly(2L);
	}

	@Test
	void whatAConnectionWasSentIsTheStreamsUnlessItMayHaveSiblings() {
		DefaultEventSource source = source("user");
		publish(new Publication.Connection(source.serial() + 1_000_000, "user"), null);
		publish(new Publication.Connection(source.serial(), "user"), null);
		PublicationLog.Resume resume = new PublicationLog.Resume(1, 0, null);
		assertThat(resumption(false).plan(source, resume, 2, 1, 2).missed()).extracting(Publication::position)
			.containsExactly(1L, 2L);
		assertThat(resumption(true).plan(source, resume, 2, 1, 2).missed()).extracting(Publication::position)
			.containsExactly(2L);
	}

	@Test
	void joiningQueuesWhatWasMissedThenTheNewPositionAndTellsTheListeners() {
		DefaultEventSource source = source("user");
		publish(ALL, null);
		publish(new Publication.Stream("user"), null);
		resumption(false).join(new Resumption.Join(source, this.log.resume("e1-1"), "e1-1"), 2, 1, 2);
		SendCoreTests.TestSink sink = bind(source);
		await().atMost(Duration.ofSeconds(5)).until(() -> sink.text().endsWith("id: e1-2\n\n"));
		assertThat(sink.text()).contains("id: e1-2\ndata: event 2\n\n").doesNotContain("event 1")
			.doesNotContain("event: reset");
		assertThat(this.replays).containsExactly("e1-1:1");
	}

	@Test
	void joiningALostClientSendsTheResetEventFirst() {
		DefaultEventSource source = source("user");
		publish(ALL, null);
		resumption(false).join(new Resumption.Join(source, this.log.resume("gone-7"), "gone-7"), 1, 1, 1);
		SendCoreTests.TestSink sink = bind(source);
		await().atMost(Duration.ofSeconds(5)).until(() -> sink.text().endsWith("id: e1-1\n\n"));
		assertThat(sink.text()).contains("event: reset\ndata: gone-7\n\nid: e1-1\n\n");
		assertThat(this.replays).containsExactly("gone-7:-1");
	}

	private Resumption resumption(boolean siblings) {
		return new Resumption(this.log, this.encoder, siblings, "reset", this.listeners);
	}

	private DefaultEventSource source(String identifier) {
		return (DefaultEventSource) this.registry.open(identifier);
	}

	private void publish(Publication.Target target, @Nullable String ownId) {
		long at = ++this.position;
		byte[] frame = (ownId != null) ? bytes("id: " + ownId + "\ndata: event " + at + "\n\n")
				: bytes("data: event " + at + "\n\n");
		this.log.dispatched(this.log.accept(at, target, ownId, frame));
	}

	private static SendCoreTests.TestSink bind(EventSource source) {
		EventSourceConnection connection = EventSourceConnection.of(source).orElseThrow();
		SendCoreTests.TestSink sink = new SendCoreTests.TestSink();
		connection.bind(sink);
		sink.connection = connection;
		connection.writable();
		return sink;
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

}
