package io.github.sisksse.sample;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import io.github.sisksse.EventLogException;
import io.github.sisksse.EventSourceRegistry;

import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Broadcasts a {@link Tick} every second to every stream opened with {@code GET /ticker}. The tick is an object:
 * the registry serialises it to JSON with Spring MVC's message converters.
 * <p>
 * Every instance runs its own ticker, and a group send reaches the streams of every instance: with several
 * instances on one Redis ({@code sisk.sse.broker=redis}), each stream receives one tick a second from each, which
 * says which instance sent it.
 */
@Component
public class Ticker {

	/**
	 * Identifier prefix of ticker streams.
	 */
	public static final String PREFIX = "ticker-";

	private final EventSourceRegistry registry;

	private volatile int port;

	/**
	 * Create the ticker.
	 * @param registry the auto-configured registry of event sources
	 */
	public Ticker(EventSourceRegistry registry) {
		this.registry = registry;
	}

	@EventListener
	void serverStarted(WebServerInitializedEvent event) {
		if (event.getApplicationContext().getServerNamespace() == null) {
			this.port = event.getWebServer().getPort();
		}
	}

	/**
	 * Send the current time to every ticker stream, serialised once for all of them, as a group send (the group is
	 * a prefix, which a log shared by several instances can carry). Sending never blocks, so a slow client cannot
	 * delay the others or the next tick. While the event log cannot be reached (Redis down), ticks are skipped: the
	 * registry has already logged the outage.
	 */
	@Scheduled(fixedRate = 1000)
	public void tick() {
		int connections = this.registry.presence().values().stream().mapToInt(Integer::intValue).sum();
		Tick tick = new Tick(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), connections, this.port);
		try {
			this.registry.sendToPrefix(PREFIX, tick);
			// Personal streams get it as a named "tick" event, kept for replay: a page that disconnects and resumes
			// with its last event id receives the ticks it missed.
			this.registry.sendToPrefix(SampleController.USER_PREFIX,
					ServerSentEvent.builder(tick).event("tick").build());
		}
		catch (EventLogException ex) {
			// Not sent; the next tick tries again.
		}
	}

	/**
	 * One tick, sent as JSON: {@code {"time":"2025-01-01T12:00:00Z","connections":3,"port":8080}}.
	 * @param time the current time, ISO-8601 in UTC
	 * @param connections the number of live identified streams, of all kinds, on every instance
	 * @param port the port of the instance that sent it
	 */
	public record Tick(String time, int connections, int port) {
	}

}
