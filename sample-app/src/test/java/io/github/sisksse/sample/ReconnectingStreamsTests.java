package io.github.sisksse.sample;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;

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
 * Which streams count as between two connections, without a server: a clock that the test moves.
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
		given(this.registry.get("user-alice")).willReturn(Optional.empty());
		given(this.registry.get("user-bob")).willReturn(Optional.empty());
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
		EventSource successor = source("user-alice");
		given(this.registry.get("user-alice")).willReturn(Optional.of(successor));
		assertThat(streams.contains("user-alice")).isFalse();
		assertThat(streams.matching((identifier) -> true)).isEmpty();
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
		assertThat(streams.contains("user-alice")).isFalse();
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
