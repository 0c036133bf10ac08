package io.github.sisksse.sample;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;

import io.github.sisksse.CloseReason;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceClosedEvent;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.autoconfigure.SiskSseProperties;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.BDDMockito.given;
import static org.mockito.Mockito.mock;

/**
 * Which streams count as between two connections, without a server: a clock that the test moves, and a registry
 * whose presence (the streams connected to every instance) the test sets; by default nobody is connected.
 */
class ReconnectingStreamsTests {

	private static final Instant START = Instant.parse("2025-01-01T12:00:00Z");

	private final EventSourceRegistry registry = mock(EventSourceRegistry.class);

	private final SiskSseProperties properties = new SiskSseProperties();

	private Instant now = START;

	private final Clock clock = new Clock() {

		@Override
		public Instant instant() {
			return ReconnectingStreamsTests.this.now;
		}

		@Override
		public ZoneId getZone() {
			return ZoneOffset.UTC;
		}

		@Override
		public Clock withZone(ZoneId zone) {
			return this;
		}

	};

	ReconnectingStreamsTests() {
		this.properties.getReplay().setEnabled(true);
		this.properties.getReplay().setMaxAge(Duration.ofMinutes(5));
	}

	@Test
	void aStreamWhoseSourceEndedIsReconnectingUntilTheReplayWindowHasPassed() {
		ReconnectingStreams streams = new ReconnectingStreams(this.registry, this.properties, this.clock);
		assertThat(streams.contains("user-alice")).isFalse();
		streams.ended(closed("user-alice", CloseReason.CLIENT_GONE));
		this.now = START.plus(Duration.ofMinutes(5)).minusMillis(1);
		assertThat(streams.contains("user-alice")).isTrue();
		this.now = START.plus(Duration.ofMinutes(5));
		assertThat(streams.contains("user-alice")).isFalse();
	}

	@Test
	void aStreamThatIsLiveAgainIsNotReconnecting() {
		ReconnectingStreams streams = new ReconnectingStreams(this.registry, this.properties, this.clock);
		streams.ended(closed("user-alice", CloseReason.REPLACED));
		given(this.registry.presence()).willReturn(Map.of("user-alice", 1));
		assertThat(streams.contains("user-alice")).isFalse();
		assertThat(streams.matching((identifier) -> true)).isEmpty();
		assertThat(streams.isReachable("user-alice")).isTrue();
	}

	@Test
	void aStreamOfAnotherInstanceIsReconnectingFromTheLastTimeItWasSeenConnected() {
		ReconnectingStreams streams = new ReconnectingStreams(this.registry, this.properties, this.clock);
		given(this.registry.presence()).willReturn(Map.of("user-carol", 1));
		streams.look();
		assertThat(streams.isReachable("user-carol")).isTrue();
		assertThat(streams.contains("user-carol")).isFalse();
		this.now = START.plusSeconds(1);
		given(this.registry.presence()).willReturn(Map.of());
		assertThat(streams.contains("user-carol")).isTrue();
		assertThat(streams.isReachable("user-carol")).isTrue();
		assertThat(streams.matching((identifier) -> identifier.startsWith("user-c"))).containsExactly("user-carol");
		this.now = START.plus(Duration.ofMinutes(5)).minusMillis(1);
		assertThat(streams.contains("user-carol")).isTrue();
		this.now = START.plus(Duration.ofMinutes(5));
		assertThat(streams.contains("user-carol")).isFalse();
		assertThat(streams.isReachable("user-carol")).isFalse();
	}

	@Test
	void aStreamSeenInAnAnswerIsKnownOnceItLeavesWithoutWaitingForTheNextLook() {
		ReconnectingStreams streams = new ReconnectingStreams(this.registry, this.properties, this.clock);
		given(this.registry.presence()).willReturn(Map.of("user-dan", 2));
		assertThat(streams.connected()).containsExactly(Map.entry("user-dan", 2));
		given(this.registry.presence()).willReturn(Map.of());
		assertThat(streams.contains("user-dan")).isTrue();
	}

	@Test
	void aStreamNeverSeenIsNotReachable() {
		ReconnectingStreams streams = new ReconnectingStreams(this.registry, this.properties, this.clock);
		streams.look();
		assertThat(streams.isReachable("user-nobody")).isFalse();
		assertThat(streams.contains("user-nobody")).isFalse();
	}

	@Test
	void matchingListsTheReconnectingStreamsWhoseIdentifierMatchesSorted() {
		ReconnectingStreams streams = new ReconnectingStreams(this.registry, this.properties, this.clock);
		streams.ended(closed("user-bob", CloseReason.CLIENT_GONE));
		streams.ended(closed("user-alice", CloseReason.PING_FAILED));
		streams.ended(closed("ticker-1", CloseReason.CLIENT_GONE));
		assertThat(streams.matching((identifier) -> identifier.startsWith("user-"))).containsExactly("user-alice",
				"user-bob");
	}

	@Test
	void nothingIsReconnectingWhenReplayIsOff() {
		this.properties.getReplay().setEnabled(false);
		ReconnectingStreams streams = new ReconnectingStreams(this.registry, this.properties, this.clock);
		streams.ended(closed("user-alice", CloseReason.CLIENT_GONE));
		given(this.registry.presence()).willReturn(Map.of("user-bob", 1));
		streams.look();
		given(this.registry.presence()).willReturn(Map.of());
		assertThat(streams.contains("user-alice")).isFalse();
		assertThat(streams.contains("user-bob")).isFalse();
		assertThat(streams.isReachable("user-bob")).isFalse();
	}

	private static EventSourceClosedEvent closed(String identifier, CloseReason reason) {
		return new EventSourceClosedEvent(source(identifier), reason);
	}

	private static EventSource source(String identifier) {
		EventSource source = mock(EventSource.class);
		given(source.identifier()).willReturn(identifier);
		return source;
	}

}
