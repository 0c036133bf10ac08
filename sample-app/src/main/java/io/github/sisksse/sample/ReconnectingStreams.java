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
import org.springframework.stereotype.Component;

/**
 * Knows which identified streams are between two connections: no live source, but the last one ended less than
 * {@code sisk.sse.replay.max-age} ago. The registry keeps what is sent to such a stream in its log and replays it
 * when the client resumes, so the demo can answer "queued for replay" for them, and "not sent" for a stream nobody
 * had. (The log is also bounded by count and size for all streams together; this demo stays far below both.)
 * <p>
 * Fed by the registry's {@link EventSourceClosedEvent}s ({@code sisk.sse.application-events}, on by default);
 * thread-safe, as the events arrive on any thread.
 */
@Component
public class ReconnectingStreams {

	private final EventSourceRegistry registry;

	private final Clock clock;

	private final Duration window;

	/** When each stream's latest source ended; entries older than the window are dropped. */
	private final Map<String, Instant> endedAt = new ConcurrentHashMap<>();

	/**
	 * Create the tracker.
	 * @param registry the registry, asked whether a stream is live again
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
		if (identifier != null && !this.window.isZero()) {
			Instant now = this.clock.instant();
			this.endedAt.put(identifier, now);
			this.endedAt.values().removeIf((ended) -> !isRecent(ended, now));
		}
	}

	/**
	 * Whether a stream is between two connections, so that what is sent to it now is replayed when it resumes.
	 * @param identifier the stream's identifier
	 * @return {@code true} if it has no live source and its last one ended within the replay window
	 */
	public boolean contains(String identifier) {
		Instant ended = this.endedAt.get(identifier);
		return ended != null && isRecent(ended, this.clock.instant()) && this.registry.get(identifier).isEmpty();
	}

	/**
	 * Return the streams between two connections whose identifier matches: those a group send reaches when they
	 * resume.
	 * @param identifierMatcher tested against each identifier
	 * @return their identifiers, sorted
	 */
	public List<String> matching(Predicate<String> identifierMatcher) {
		return this.endedAt.keySet()
			.stream()
			.filter((identifier) -> identifierMatcher.test(identifier) && contains(identifier))
			.sorted()
			.toList();
	}

	private boolean isRecent(Instant ended, Instant now) {
		return ended.plus(this.window).isAfter(now);
	}

}
