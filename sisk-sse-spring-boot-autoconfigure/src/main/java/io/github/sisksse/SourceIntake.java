package io.github.sisksse;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * What enters one connection: the application's headers, sends and close request, which it accepts only while the
 * connection is open, and the events the {@link Dispatcher} queues for it, live ({@link #enqueue}, then
 * {@link #settle}) or replayed when it joins the log ({@link #join}). A part of its {@link DefaultEventSource},
 * which delegates to it; it acts on the same parts as the source's {@link SourceConnection} (queue, lifecycle,
 * headers, writer), and ends the source through that connection.
 * <p>
 * <b>Thread safety.</b> No lock of its own: its {@code closeRequested} flag, and what it touches of the queue, the
 * lifecycle, the headers and the writer role, are guarded by the connection's monitor, that of its private
 * {@link OutboundQueue}. Every method but {@link #settle} takes it itself, for a few field updates and, in
 * {@link #sending} and {@link #requestClose}, the append to the log, so that an event keeps its place before the
 * source's close; it is never held while scheduling the writer, running listeners or ending the source, which
 * {@link #settle} and {@link #join} do once it is released. The application's threads call it for headers, sends
 * and the close; the dispatcher's thread for {@link #enqueue}, {@link #settle} and {@link #join}.
 */
final class SourceIntake {

	private final EventSource source;

	/** The connection's queue, and its monitor: the one lock of the connection. */
	private final OutboundQueue queue;

	private final ConnectionLifecycle lifecycle;

	private final ResponseHeaders headers;

	private final ConnectionWriter writer;

	private final SourceConnection connection;

	private final Listeners listeners;

	// Guarded by the queue's monitor

	/** Whether the application closed this source, which ends once what was sent before is delivered. */
	private boolean closeRequested;

	/**
	 * Create the intake of a connection, guarded by its queue's monitor, which guards the other parts too.
	 * @param source the source, as its listeners are told of it
	 * @param connection the source's connection, its writer and the one that ends it
	 */
	SourceIntake(EventSource source, OutboundQueue queue, ConnectionLifecycle lifecycle, ResponseHeaders headers,
			SourceConnection connection, Listeners listeners) {
		this.source = source;
		this.queue = queue;
		this.lifecycle = lifecycle;
		this.headers = headers;
		this.writer = connection.writer();
		this.connection = connection;
		this.listeners = listeners;
	}

	/**
	 * Add a header of the application's, {@linkplain ResponseHeaders#check checked} already.
	 * @throws IllegalStateException if an event was already sent or the headers already written
	 */
	void header(String name, String value) {
		synchronized (this.queue) {
			this.headers.add(name, value);
		}
	}

	/**
	 * Return whether the source accepts events from the application: it is open, and was not asked to close.
	 */
	boolean isOpen() {
		synchronized (this.queue) {
			return this.lifecycle.isOpen() && !this.closeRequested;
		}
	}

	/**
	 * The application asked to close the source: it accepts nothing more from the application, and ends when the
	 * log reaches its close, appended under the connection's lock like its sends.
	 * @param append appends the close to the log; called with the lock held
	 * @return whether this is the first request and the source is open, and so the close appended
	 */
	boolean requestClose(Runnable append) {
		synchronized (this.queue) {
			if (!this.lifecycle.isOpen() || this.closeRequested) {
				return false;
			}
			append.run();
			this.closeRequested = true;
			return true;
		}
	}

	/**
	 * The application sends to the source: from now on its headers are fixed, and the event takes its place in the
	 * log under the connection's lock, so that it is either before the source's close in the log or refused.
	 * @param append appends the event to the log; called with the lock held
	 * @return whether the source was open, and so the event appended
	 */
	boolean sending(Runnable append) {
		synchronized (this.queue) {
			if (!this.lifecycle.isOpen() || this.closeRequested) {
				return false;
			}
			append.run();
			this.headers.sent(true);
			return true;
		}
	}

	/**
	 * Queue an encoded event under the connection's lock only, and say what is left to do: the caller must
	 * {@link #settle} it, with no lock held, because settling may end the source and so run listeners and user
	 * callbacks. The bytes are never modified, so one array may be queued for many sources.
	 * @param idLine the {@code id:} line to write first; {@code null} when the event carries the application's id
	 * @param bytes the event
	 */
	Offer enqueue(byte @Nullable [] idLine, byte[] bytes) {
		synchronized (this.queue) {
			if (!this.lifecycle.isOpen()) {
				return Offer.CLOSED;
			}
			this.headers.sent(false);
			OutboundQueue.Offer offer = this.queue.offer(idLine, bytes);
			if (offer == OutboundQueue.Offer.OVERFLOWED) {
				return Offer.OVERFLOWED;
			}
			boolean turn = this.writer.claim();
			return (offer == OutboundQueue.Offer.DROPPED_OLDEST) ? (turn ? Offer.DROPPED_TURN : Offer.DROPPED)
					: (turn ? Offer.QUEUED_TURN : Offer.QUEUED);
		}
	}

	/**
	 * The second half of {@link #enqueue}, to run with no lock held.
	 * @return whether the event was queued
	 */
	boolean settle(Offer offer) {
		if (offer == Offer.OVERFLOWED || offer == Offer.DROPPED || offer == Offer.DROPPED_TURN) {
			this.listeners.notify((listener) -> listener.onOverflow(this.source));
		}
		if (offer == Offer.OVERFLOWED) {
			this.connection.end(CloseReason.QUEUE_OVERFLOW, false, false, null, null);
		}
		if (offer == Offer.QUEUED_TURN || offer == Offer.DROPPED_TURN) {
			this.writer.schedule();
		}
		return offer != Offer.OVERFLOWED && offer != Offer.CLOSED;
	}

	/**
	 * The source joins the log: queue the reset event if the client's position was lost, the publications it
	 * missed, and its new position, ahead of any live event. Nothing is queued once the source is closing, so that
	 * nothing follows its close event. Not bounded by the queue limits, as the log has bounds of its own.
	 * @param reset the reset event, or {@code null} if the client's position was not lost
	 * @param position the {@code id:} frame of the client's new position
	 */
	void join(List<Publication> missed, byte @Nullable [] reset, byte[] position) {
		synchronized (this.queue) {
			if (!this.lifecycle.isOpen()) {
				return;
			}
			if (reset != null) {
				this.queue.add(Frame.control(reset));
			}
			for (Publication event : missed) {
				this.queue.add(new Frame(event.idLine(), event.frame(), Frame.Kind.REPLAYED));
			}
			this.queue.add(Frame.control(position));
		}
		this.writer.scheduleIfWork();
	}

	/**
	 * What {@link #enqueue} did, and so what {@link #settle} must do.
	 */
	enum Offer {

		QUEUED, QUEUED_TURN, DROPPED, DROPPED_TURN, OVERFLOWED, CLOSED

	}

}
