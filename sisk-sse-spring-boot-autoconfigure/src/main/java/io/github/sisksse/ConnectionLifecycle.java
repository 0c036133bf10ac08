package io.github.sisksse;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

/**
 * Where one connection stands: {@code OPEN} accepts events; the first end fixes the {@link CloseReason} and moves
 * to {@code CLOSING} (graceful: what is queued is still written) or {@code CLOSED} (abrupt); the connection is
 * {@code CLOSED} at the latest once its response is complete. The {@code closed} future completes exactly once,
 * with the first reason.
 * <p>
 * <b>Thread safety.</b> The state and the reason are guarded by the connection's monitor, the object passed as
 * {@code monitor} (no lock of its own): every method is called with it held, except {@link #finish()}, which
 * takes it for two field accesses, and those on the future, which is thread-safe and must be completed with the
 * monitor released, as completing it runs the listeners and the application's callbacks.
 */
final class ConnectionLifecycle {

	private final Object monitor;

	private final CompletableFuture<CloseReason> closed = new CompletableFuture<>();

	// Guarded by the monitor

	private State state = State.OPEN;

	private @Nullable CloseReason reason;

	ConnectionLifecycle(Object monitor) {
		this.monitor = monitor;
	}

	/**
	 * Return whether the connection accepts events. Call with the monitor held.
	 */
	boolean isOpen() {
		return this.state == State.OPEN;
	}

	/**
	 * Return whether the connection ended gracefully and still writes what is queued. Call with the monitor held.
	 */
	boolean isClosing() {
		return this.state == State.CLOSING;
	}

	/**
	 * Return whether nothing more is written but the completion of the response. Call with the monitor held.
	 */
	boolean isClosed() {
		return this.state == State.CLOSED;
	}

	/**
	 * Move to {@code CLOSING} or {@code CLOSED}, keeping the first reason. The first call wins; a later abrupt end
	 * only stops a graceful close that is still writing. Call with the monitor held.
	 * @param why the reason, kept only if this is the first end
	 * @param graceful whether what is queued is still written
	 * @return the first reason, or {@code null} if this call changes nothing
	 */
	@Nullable CloseReason end(CloseReason why, boolean graceful) {
		if (this.state == State.CLOSED || (this.state == State.CLOSING && graceful)) {
			return null;
		}
		if (this.reason == null) {
			this.reason = why;
		}
		this.state = graceful ? State.CLOSING : State.CLOSED;
		return this.reason;
	}

	/**
	 * The response is complete: mark the connection closed and, if it was ended, complete the future. Takes the
	 * monitor itself, and completes the future after releasing it.
	 */
	void finish() {
		CloseReason finalReason;
		synchronized (this.monitor) {
			this.state = State.CLOSED;
			finalReason = this.reason;
		}
		if (finalReason != null) {
			this.closed.complete(finalReason);
		}
	}

	/**
	 * Complete the future, if not done yet, with the reason {@link #end} returned. Call with the monitor released.
	 */
	void complete(CloseReason finalReason) {
		this.closed.complete(finalReason);
	}

	/**
	 * Run the action with the reason once the connection is closed, or at once if it already is.
	 */
	void onClosed(Consumer<CloseReason> action) {
		this.closed.thenAccept(action);
	}

	/**
	 * Return a future of the reason, which callers may complete or cancel without affecting the connection.
	 */
	CompletableFuture<CloseReason> whenClosed() {
		return this.closed.copy();
	}

	private enum State {

		OPEN, CLOSING, CLOSED

	}

}
