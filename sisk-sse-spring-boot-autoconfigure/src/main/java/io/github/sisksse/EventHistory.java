package io.github.sisksse;

import java.util.List;
import java.util.Optional;

/**
 * The recent events of each identified stream, so that a client reconnecting with {@code Last-Event-ID} receives
 * what it missed. A stream is an identifier: its events are those sent to it with
 * {@link EventSourceRegistry#send(String, Object)}, to one of its sources, or by a matching broadcast.
 * <p>
 * The registry calls a history while holding its lock for that stream, so calls for one stream never overlap;
 * calls for different streams may run at once. An implementation bounds what it keeps (by count and age, for
 * example) and may be shared between application instances, such as one backed by Redis.
 *
 * @see InMemoryEventHistory
 */
public interface EventHistory {

	/**
	 * Return the id of the next event of the stream: ids must increase per stream and never repeat, also after
	 * the stream's history was forgotten, so that an old {@code Last-Event-ID} is never mistaken for a new one.
	 * @param stream the identifier
	 * @return the next id
	 */
	long nextId(String stream);

	/**
	 * Remember an event of the stream.
	 * @param stream the identifier
	 * @param event the event
	 */
	void add(String stream, StoredEvent event);

	/**
	 * Return the events of the stream sent after the one with the given id, oldest first.
	 * @param stream the identifier
	 * @param lastEventId the id the client reported
	 * @return the events (empty when nothing was missed), or {@link Optional#empty()} when that id is not in the
	 * history: unknown, or too old and forgotten; the client then has to reload its state
	 */
	Optional<List<StoredEvent>> after(String stream, String lastEventId);

}
