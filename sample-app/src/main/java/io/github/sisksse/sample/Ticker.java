package io.github.sisksse.sample;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import io.github.sisksse.EventSourceRegistry;

import org.springframework.http.codec.ServerSentEvent;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Broadcasts a {@link Tick} every second to every stream opened with {@code GET /ticker}. The tick is an object:
 * the registry serialises it to JSON with Spring MVC's message converters.
 */
@Component
public class Ticker {

	/**
	 * Identifier prefix of ticker streams.
	 */
	public static final String PREFIX = "ticker-";

	private final EventSourceRegistry registry;

	/**
	 * Create the ticker.
	 * @param registry the auto-configured registry of event sources
	 */
	public Ticker(EventSourceRegistry registry) {
		this.registry = registry;
	}

	/**
	 * Send the current time to every ticker stream, serialised once for all of them, as a group send (the group is
	 * a prefix, which a log shared by several instances can carry). Sending never blocks, so a slow client cannot
	 * delay the others or the next tick.
	 */
	@Scheduled(fixedRate = 1000)
	public void tick() {
		Tick tick = new Tick(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), this.registry.size());
		this.registry.sendToPrefix(PREFIX, tick);
		// Personal streams get it as a named "tick" event, kept for replay: a page that disconnects and resumes
		// with its last event id receives the ticks it missed.
		this.registry.sendToPrefix(SampleController.USER_PREFIX, ServerSentEvent.builder(tick).event("tick").build());
	}

	/**
	 * One tick, sent as JSON: {@code {"time":"2025-01-01T12:00:00Z","connections":3}}.
	 * @param time the current time, ISO-8601 in UTC
	 * @param connections the number of live identified streams, of all kinds
	 */
	public record Tick(String time, int connections) {
	}

}
