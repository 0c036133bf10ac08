package io.github.sisksse.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import static io.github.sisksse.test.SseAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The assertions against a scripted stream, whose events arrive one per read, so that waiting needs no clock.
 */
class SseStreamAssertTests {

	private static final Duration SHORT = Duration.ofMillis(200);

	@Test
	void receivesWaitsForTheDataInOrderWithOtherEventsBetween() {
		ScriptedStream stream = new ScriptedStream("a", "ping", "b", "c");
		assertThat(stream).receives("a", "b").receives("c");
		assertThat(stream.reads).isGreaterThan(1);
	}

	@Test
	void receivesFailsListingWhatArrivedWhenTheOrderDiffers() {
		ScriptedStream stream = new ScriptedStream("b", "a").revealAll();
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(stream).within(SHORT).receives("a", "b"))
			.withMessageContaining("scripted stream to receive events with data [\"a\", \"b\"] in this order within 0.2s")
			.withMessageContaining("but it received 2 events\n  message \"b\"\n  message \"a\"")
			.withMessageContaining("still open");
	}

	@Test
	void receivesExactlyFailsOnAnyOtherEvent() {
		assertThat(new ScriptedStream("a", "b")).receivesExactly("a", "b");
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(new ScriptedStream("a", "ping", "b").revealAll()).receivesExactly("a", "b"))
			.withMessageContaining("to receive exactly the events with data [\"a\", \"b\"], but it received 3 events");
	}

	@Test
	void receivesEventMatchesTheTypeAndOptionallyTheData() {
		ScriptedStream stream = new ScriptedStream("a").then(new SseEvent("close", "bye", "9"));
		assertThat(stream).receivesEvent("close").receivesEvent("close", "bye").hasLastEventId("9");
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(stream).within(SHORT).receivesEvent("close", "later"))
			.withMessageContaining("to receive an event of type \"close\" with data \"later\" within 0.2s")
			.withMessageContaining("close \"bye\" (id \"9\")");
	}

	@Test
	void receivesCommentWaitsForTheComment() {
		ScriptedStream stream = new ScriptedStream("a");
		stream.comments.add("ping");
		assertThat(stream).receivesComment("ping");
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(stream).within(SHORT).receivesComment("pong"))
			.withMessageContaining("to receive the comment \"pong\"")
			.withMessageContaining("and 1 comment [\"ping\"]");
	}

	@Test
	void stopsWaitingOnceTheServerEndedTheStream() {
		ScriptedStream stream = new ScriptedStream("a").revealAll();
		stream.ended = true;
		assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(stream).within(Duration.ofMinutes(1)).receives("never"))
			.withMessageContaining("ended by the server"));
	}

	@Test
	void isClosedByServerWaitsForTheEnd() {
		ScriptedStream stream = new ScriptedStream("a");
		stream.endAfterChecks = 3;
		assertThat(stream).isClosedByServer();
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(new ScriptedStream()).within(SHORT).isClosedByServer())
			.withMessageContaining("to be closed by the server within 0.2s, but it received 0 events");
	}

	@Test
	void isOpenChecksNow() {
		ScriptedStream stream = new ScriptedStream("a").revealAll();
		assertThat(stream).isOpen();
		stream.ended = true;
		assertThatExceptionOfType(AssertionError.class).isThrownBy(() -> assertThat(stream).isOpen())
			.withMessageContaining("to be open, but the server ended it after 1 event");
	}

	@Test
	void checksStatusHeadersAndRetry() {
		ScriptedStream stream = new ScriptedStream();
		stream.retry = 3000L;
		assertThat(stream).hasStatus(200).hasHeader("Content-Type", "text/event-stream").hasRetry(3000);
		assertThatExceptionOfType(AssertionError.class).isThrownBy(() -> assertThat(stream).hasStatus(409))
			.withMessageContaining("to have the status 409, but it has 200");
		assertThatExceptionOfType(AssertionError.class).isThrownBy(() -> assertThat(stream).hasHeader("X-Missing", "1"))
			.withMessageContaining("to have the header X-Missing: \"1\", but it has none");
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(stream).within(SHORT).hasRetry(1000))
			.withMessageContaining("to have the retry 1000 ms");
	}

	@Test
	void describesTheFailureWithTheAssertionsDescription() {
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(new ScriptedStream()).as("alice's stream").within(SHORT).receives("x"))
			.withMessageStartingWith("[alice's stream] Expected scripted stream");
	}

	@Test
	void eventsNavigatesToTheEventsReceived() {
		assertThat(new ScriptedStream("a", "b")).receives("b").events().extracting(SseEvent::data)
			.containsExactly("a", "b");
	}

	@Test
	void refusesANonPositiveTimeLimit() {
		assertThatIllegalArgumentException().isThrownBy(() -> assertThat(new ScriptedStream()).within(Duration.ZERO));
	}

	/**
	 * A stream whose scripted events arrive one more at each read of the events.
	 */
	private static final class ScriptedStream implements SseStream {

		private final List<SseEvent> script = new ArrayList<>();

		final List<String> comments = new ArrayList<>();

		int revealed;

		int reads;

		int endChecks;

		int endAfterChecks = -1;

		volatile boolean ended;

		@Nullable Long retry;

		ScriptedStream(String... data) {
			for (String value : data) {
				this.script.add(new SseEvent("message", value, ""));
			}
		}

		ScriptedStream then(SseEvent event) {
			this.script.add(event);
			return this;
		}

		ScriptedStream revealAll() {
			this.revealed = this.script.size();
			return this;
		}

		@Override
		public List<SseEvent> events() {
			this.reads++;
			List<SseEvent> events = List.copyOf(this.script.subList(0, this.revealed));
			this.revealed = Math.min(this.revealed + 1, this.script.size());
			return events;
		}

		@Override
		public List<String> comments() {
			return List.copyOf(this.comments);
		}

		@Override
		public String lastEventId() {
			return (this.revealed == 0) ? "" : this.script.get(this.revealed - 1).lastEventId();
		}

		@Override
		public @Nullable Long retry() {
			return this.retry;
		}

		@Override
		public boolean isEnded() {
			if (++this.endChecks == this.endAfterChecks) {
				this.ended = true;
			}
			return this.ended;
		}

		@Override
		public int status() {
			return 200;
		}

		@Override
		public @Nullable String header(String name) {
			return Map.of("content-type", "text/event-stream").get(name.toLowerCase(Locale.ROOT));
		}

		@Override
		public String toString() {
			return "scripted stream";
		}

	}

}
