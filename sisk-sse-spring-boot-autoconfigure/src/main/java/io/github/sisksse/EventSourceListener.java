package io.github.sisksse;

import org.springframework.context.ApplicationEventPublisher;

/**
 * Callbacks from an {@link EventSourceRegistry} about its sources, for metrics, auditing or application events.
 * Register one with {@link EventSourceRegistry.Builder#listener(EventSourceListener)}; with Spring Boot, declare
 * it as a bean.
 * <p>
 * Each callback runs on the thread where the thing happened (a request, writer, scheduler or container thread),
 * possibly on several threads at once, so implementations must be thread-safe, fast and must not block: a writer
 * thread serves every connection, and a container thread may hold the request's own lock meanwhile (for
 * {@link #onClose} after the client went away). Hand slow work to an executor. An exception thrown by a listener is logged and otherwise ignored. {@link #onOpen} comes before {@link #onClose};
 * a write already under way when a source is ended abruptly may still report {@link #onWrite} or
 * {@link #onWriteFailure} after {@link #onClose}.
 */
public interface EventSourceListener {

	/**
	 * A source was opened and registered. Called once per source, before any {@link #onClose}.
	 * @param source the source
	 */
	default void onOpen(EventSource source) {
	}

	/**
	 * A source ended. Called exactly once per source.
	 * @param source the source
	 * @param reason why it ended
	 */
	default void onClose(EventSource source, CloseReason reason) {
	}

	/**
	 * Queued data was written to the client with one write and flush.
	 * @param source the source
	 * @param events how many application events the write carried (pings and other control lines not counted)
	 * @param bytes how many bytes were written
	 */
	default void onWrite(EventSource source, int events, int bytes) {
	}

	/**
	 * A ping was written to the client.
	 * @param source the source
	 */
	default void onPing(EventSource source) {
	}

	/**
	 * A source opened with a {@code Last-Event-ID}: its client reconnected and was given what it missed.
	 * @param source the source
	 * @param lastEventId the id the client last received
	 * @param replayed how many events were replayed, or {@code -1} when what followed that id is no longer kept
	 * (or the id is unknown) and the reset event was sent instead
	 */
	default void onReplay(EventSource source, String lastEventId, int replayed) {
	}

	/**
	 * A write to the client failed; the source ends.
	 * @param source the source
	 * @param failure the failure, usually because the client went away
	 */
	default void onWriteFailure(EventSource source, Throwable failure) {
	}

	/**
	 * An event did not fit in the source's bounded queue: the source closes or drops its oldest events, as its
	 * {@link OverflowPolicy} says.
	 * @param source the source
	 */
	default void onOverflow(EventSource source) {
	}

	/**
	 * Return a listener that publishes an {@link EventSourceOpenedEvent} and an {@link EventSourceClosedEvent}
	 * as Spring application events.
	 * @param publisher where to publish them
	 * @return the listener
	 */
	static EventSourceListener publishing(ApplicationEventPublisher publisher) {
		return new ApplicationEventsListener(publisher);
	}

}
