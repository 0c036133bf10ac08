package io.github.sisksse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * This instance's copy of the log, without a registry: positions, wire ids, epochs and the bounds that hold
 * whatever the number of streams.
 */
class PublicationLogTests {

	private static final Publication.Target ALL = new Publication.All();

	private long position;

	@Test
	void entriesCarryTheirEpochAndPositionOnTheWire() {
		PublicationLog log = log(10, 1 << 20, Duration.ofMinutes(1));
		Publication first = accept(log, "a");
		Publication second = accept(log, "b");
		assertThat(second.seq()).isEqualTo(first.seq() + 1);
		assertThat(new String(first.idLine(), StandardCharsets.UTF_8)).isEqualTo("id: e1-1\n");
		assertThat(log.resume("e1-1")).isEqualTo(new PublicationLog.Resume(1, 1, null));
		assertThat(log.resume(null)).isEqualTo(new PublicationLog.Resume(1, 2, null));
	}

	@Test
	void aPositionFromAnotherEpochIsLostNotMistakenForOneOfThisEpoch() {
		PublicationLog log = log(10, 1 << 20, Duration.ofMinutes(1));
		accept(log, "a");
		log.epoch("e2");
		this.position = 0;
		Publication renumbered = accept(log, "b");
		assertThat(renumbered.position()).isEqualTo(1);
		assertThat(renumbered.generation()).isEqualTo(2);
		// Not a position of this epoch: looked up as an application's id, which no entry carries.
		assertThat(log.resume("e1-1")).isEqualTo(new PublicationLog.Resume(2, 1, "e1-1"));
		assertThat(log.held(2, 0, 2, null).candidates()).extracting(Publication::ownId).containsOnlyNulls();
		assertThat(log.resume("e2-1")).isEqualTo(new PublicationLog.Resume(2, 1, null));
		assertThat(log.idOf(1, 1)).isEqualTo("e1-1");
	}

	@Test
	void theApplicationsOwnIdsAreFoundInTheLog() {
		PublicationLog log = log(10, 1 << 20, Duration.ofMinutes(1));
		accept(log, "a");
		Publication own = log.accept(++this.position, ALL, "custom-2", bytes("b"));
		accept(log, "c");
		assertThat(own.idLine()).isNull();
		// Resolved per stream when the client joins, from what is held.
		assertThat(log.resume("custom-2")).isEqualTo(new PublicationLog.Resume(1, 3, "custom-2"));
		assertThat(log.held(1, 0, 3, null).candidates()).extracting(Publication::ownId).containsExactly(null, "custom-2", null);
	}

	@Test
	void deliveredEntriesAreKeptUpToTheCountWhateverTheNumberOfStreams() {
		PublicationLog log = log(100, 1 << 30, Duration.ofMinutes(1));
		// 20,000 users coming and going under fresh names, with nobody connected: the copy stays at its bound.
		for (int i = 0; i < 20_000; i++) {
			log.dispatched(log.accept(++this.position, new Publication.Stream("user-" + i), null, bytes("hi " + i)));
		}
		assertThat(complete(log, 20_000 - 100, 20_000)).isTrue();
		assertThat(log.held(1, 20_000 - 100, 20_000, null).candidates()).hasSize(100);
		assertThat(complete(log, 20_000 - 101, 20_000)).isFalse();
	}

	@Test
	void deliveredEntriesAreKeptUpToTheBytes() {
		PublicationLog log = log(1000, 16 * 1024 * 1024, Duration.ofMinutes(1));
		byte[] large = new byte[5 * 1024 * 1024];
		for (int i = 0; i < 8; i++) {
			log.dispatched(log.accept(++this.position, ALL, null, large));
		}
		// Three 5 MB events fit in 16 MB: the fourth newest is gone.
		assertThat(complete(log, 5, 8)).isTrue();
		assertThat(complete(log, 4, 8)).isFalse();
	}

	@Test
	void deliveredEntriesAreKeptUpToTheirAge() {
		PublicationLog log = log(1000, 1 << 20, Duration.ofMillis(200));
		log.dispatched(accept(log, "old"));
		assertThat(complete(log, 0, 1)).isTrue();
		await().atMost(Duration.ofSeconds(5)).until(() -> !complete(log, 0, 1));
	}

	@Test
	void aGapInTheLogLosesThePositionsBeforeIt() {
		PublicationLog log = log(100, 1 << 20, Duration.ofMinutes(1));
		log.dispatched(log.accept(1, ALL, null, bytes("1")));
		log.dispatched(log.accept(2, ALL, null, bytes("2")));
		// Entries 3 and 4 were forgotten by the log before this instance read them.
		log.dispatched(log.accept(5, ALL, null, bytes("5")));
		assertThat(complete(log, 1, 5)).isFalse();
		assertThat(log.held(1, 4, 3, null).candidates()).extracting(Publication::position).containsExactly(5L);
		assertThat(complete(log, 4, 5)).isTrue();
		assertThat(complete(log, 5, 5)).isTrue();
	}

	@Test
	void entriesNotYetDeliveredAreKeptWhateverTheBoundsThenForgottenWithoutReplay() {
		PublicationLog log = log(0, 0, Duration.ZERO);
		for (int i = 0; i < 10; i++) {
			accept(log, "e" + i);
		}
		long delivered = 0;
		for (Publication next = log.next(delivered); next != null; next = log.next(delivered)) {
			assertThat(new String(next.frame(), StandardCharsets.UTF_8)).isEqualTo("e" + delivered);
			delivered = next.seq();
			log.dispatched(next);
		}
		assertThat(delivered).isEqualTo(10);
		assertThat(complete(log, 9, 10)).isFalse();
	}

	@Test
	void takingEntriesFailsRatherThanGrowingWithoutEndWhenNothingIsDelivered() {
		PublicationLog log = log(0, 0, Duration.ZERO);
		for (int i = 0; i < PublicationLog.MAX_PENDING; i++) {
			accept(log, "x");
		}
		assertThatIllegalStateException().isThrownBy(() -> accept(log, "one too many"))
			.withMessageContaining("65536 events are still waiting to be delivered");
		this.position--;
		log.dispatched(log.next(0));
		accept(log, "fits again");
	}

	@Test
	void heldEntriesForAStreamAreItsOwnAndTheGroupEntriesInOrderForTheCallerToFilter() {
		PublicationLog log = log(100, 1 << 20, Duration.ofMinutes(1));
		log.dispatched(log.accept(1, new Publication.Stream("a"), null, bytes("1")));
		log.dispatched(log.accept(2, new Publication.Stream("b"), null, bytes("2")));
		log.dispatched(log.accept(3, new Publication.Prefix("a"), null, bytes("3")));
		log.dispatched(log.accept(4, new Publication.Connection(7, "a"), null, bytes("4")));
		log.dispatched(log.accept(5, new Publication.Closing(7), null, bytes("")));
		log.dispatched(log.accept(6, ALL, null, bytes("6")));
		PublicationLog.Held forA = log.held(1, 0, 6, "a");
		assertThat(forA.candidates()).extracting((entry) -> new String(entry.frame(), StandardCharsets.UTF_8))
			.containsExactly("1", "3", "4", "6");
		assertThat(forA.isComplete(0, 6)).isTrue();
		assertThat(log.held(1, 1, 6, "b").candidates()).extracting(Publication::position).containsExactly(2L, 3L, 6L);
		assertThat(log.held(1, 2, 6, "b").candidates()).extracting(Publication::position).containsExactly(3L, 6L);
		assertThat(log.held(1, 0, 6, "nobody").candidates()).extracting(Publication::position).containsExactly(3L, 6L);
	}

	@Test
	void findingWhatAStreamMissedCostsWhatItIsOwedNotEverythingHeld() {
		PublicationLog log = log(300_000, 1L << 30, Duration.ofMinutes(1));
		// 10,000 streams sent 20 events each, then one resumes: it gets its 20, from an index, not a walk of 200,000.
		for (int e = 0; e < 20; e++) {
			for (int s = 0; s < 10_000; s++) {
				log.dispatched(log.accept(++this.position, new Publication.Stream("user-" + s), null, bytes("e" + e)));
			}
		}
		PublicationLog.Held held = log.held(1, 0, this.position, "user-42");
		assertThat(held.candidates()).hasSize(20).allMatch((entry) -> entry.target().includes("user-42"));
		assertThat(held.count()).isEqualTo(200_000);
		assertThat(held.isComplete(0, 200_000)).isTrue();
	}

	@Test
	void theIndexForgetsWhatTheLogForgets() {
		PublicationLog log = log(100, 1 << 30, Duration.ofMinutes(1));
		for (int i = 0; i < 20_000; i++) {
			log.dispatched(log.accept(++this.position, new Publication.Stream("user-" + i), null, bytes("hi")));
		}
		assertThat(log.indexedIdentifiers()).isEqualTo(100);
		assertThat(log.held(1, 0, this.position, "user-19999").candidates()).hasSize(1);
		assertThat(log.held(1, 0, this.position, "user-0").candidates()).isEmpty();
	}

	/** Whether the copy still holds every entry after {@code after} up to {@code upTo} (delivered, sequence = position here). */
	private static boolean complete(PublicationLog log, long after, long upTo) {
		return log.held(1, after, upTo, null).isComplete(after, upTo);
	}

	private static PublicationLog log(int maxEntries, long maxBytes, Duration maxAge) {
		PublicationLog log = new PublicationLog(maxEntries, maxBytes, maxAge);
		log.epoch("e1");
		return log;
	}

	private Publication accept(PublicationLog log, String data) {
		return log.accept(++this.position, ALL, null, bytes(data));
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

}
