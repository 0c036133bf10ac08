package io.github.sisksse.sample;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

import io.github.sisksse.EventSourceClosedEvent;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.autoconfigure.SiskSseProperties;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Knows which identified streams are between two connections: connected to no instance now, but seen connected less
 * than {@code sisk.sse.replay.max-age} ago. The registry keeps what is sent to such a stream in its log and replays
 * it when the client resumes, on whichever instance, so the demo can answer "queued for replay" for them, and "not
 * sent" for a stream nobody had. (The log is also bounded by count and size for all streams together; this demo
 * stays far below both.)
 * <p>
 * A stream of this instance is seen until its source ends ({@link EventSourceClosedEvent}s,
 * {@code sisk.sse.application-events}, on by default). A stream of another instance ({@code sisk.sse.broker=redis})
 * is seen in {@link EventSourceRegistry#presence()}, looked at every second and on every question: it counts from
 * the last time it was seen there, a little before it ended, so that the answer errs towards "not sent", never
 * towards a replay that cannot happen. One that came and went between two looks is not known here.
 * <p>
 * Thread-safe, as the events arrive on any thread.
 */
@Component
public class ReconnectingStreams {

	private final EventSourceRegistry registry;

	private final Clock clock;

	private final Duration window;

	/** When each stream was last seen connected; entries older than the window are dropped. */
	private final Map<String, Instant> lastSeen = new ConcurrentHashMap<>();

	/**
	 * Create the tracker.
	 * @param registry the registry, asked which streams are connected
	 * @param properties the starter's settings: nothing is kept for replay when replay is off
	 */
	@Autowired
	public ReconnectingStreams(EventSourceRegistry registry, SiskSseProperties properties) {
		this(registry, properties, Clock.systemUTC());
	}

	ReconnectingStreams(EventSourceRegistry registry, SiskSseProperties properties, Clock clock) {
		this.registry = registry;
		this.clock = clock;
		this.window = properties.getReplay().isEnabled() ? properties.getReplay().getMaxAge() : Duration.ZERO;
	}

	@EventListener
	void ended(EventSourceClosedEvent event) {
		String identifier = event.getEventSource().identifier();
		if (identifier != null) {
			seen(identifier, this.clock.instant());
		}
	}

	/**
	 * Look at the streams connected to every instance, so that those of other instances are known once they leave,
	 * and forget those last seen before the window.
	 */
	@Scheduled(fixedRate = 1000)
	void look() {
		connected();
		Instant now = this.clock.instant();
		this.lastSeen.values().removeIf((seen) -> !isRecent(seen, now));
	}

	/**
	 * Return the identified streams connected to any instance, as {@link EventSourceRegistry#presence()} does, and
	 * remember them as seen.
	 * @return identifier to number of connections
	 */
	public Map<String, Integer> connected() {
		Map<String, Integer> presence = this.registry.presence();
		Instant now = this.clock.instant();
		presence.keySet().forEach((identifier) -> seen(identifier, now));
		return presence;
	}

	/**
	 * Whether a send to a stream reaches someone: it is connected to some instance, or between two connections.
	 * @param identifier the stream's identifier
	 * @return {@code true} if it is connected, or was within the replay window
	 */
	public boolean isReachable(String identifier) {
		Map<String, Integer> connected = connected();
		return connected.containsKey(identifier) || isBetweenConnections(identifier, connected, this.clock.instant());
	}

	/**
	 * Whether a stream is between two connections, so that what is sent to it now is replayed when it resumes.
	 * @param identifier the stream's identifier
	 * @return {@code true} if it is connected to no instance and was seen connected within the replay window
	 */
	public boolean contains(String identifier) {
		return isBetweenConnections(identifier, connected(), this.clock.instant());
	}

	/**
	 * Return the streams between two connections whose identifier matches: those a group send reaches when they
	 * resume.
	 * @param identifierMatcher tested against each identifier
	 * @return their identifiers, sorted
	 */
	public List<String> matching(Predicate<String> identifierMatcher) {
		Map<String, Integer> connected = connected();
		Instant now = this.clock.instant();
		return this.lastSeen.keySet()
			.stream()
			.filter((identifier) -> identifierMatcher.test(identifier)
					&& isBetweenConnections(identifier, connected, now))
			.sorted()
			.toList();
	}

	private void seen(String identifier, Instant now) {
		if (!this.window.isZero()) {
			this.lastSeen.merge(identifier, now, (earlier, later) -> earlier.isAfter(later) ? earlier : later);
		}
	}

	private boolean isBetweenConnections(String identifier, Map<String, Integer> connected, Instant now) {
		Instant seen = this.lastSeen.get(identifier);
		return seen != null && isRecent(seen, now) && !connected.containsKey(identifier);
	}

	private boolean isRecent(Instant seen, Instant now) {
		return seen.plus(this.window).isAfter(now);
	}

}
