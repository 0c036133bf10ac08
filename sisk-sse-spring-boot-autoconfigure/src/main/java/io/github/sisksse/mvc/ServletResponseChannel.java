package io.github.sisksse.mvc;

import java.io.IOException;

import io.github.sisksse.EventSourceConnection;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import org.jspecify.annotations.Nullable;

import org.springframework.web.context.request.async.DeferredResult;

/**
 * The only class that touches a stream's Servlet response: writes with Servlet non-blocking I/O (every write and
 * flush only after {@link ServletOutputStream#isReady()} said yes, the rest resumed from
 * {@link WriteListener#onWritePossible()}), and completes the asynchronous request through Spring MVC.
 * <p>
 * <b>Thread safety.</b> {@link #write} and {@link #complete} are called by one thread at a time, the holder of the
 * connection's writer role, so {@link #flushPending} needs no lock; the container's callbacks only report to the
 * connection, which is thread-safe. The container calls {@code onWritePossible} only after {@code isReady()}
 * returned {@code false}, when the writer has stopped touching the stream (and once at first); on that first
 * call, the container's thread takes the writer role itself and writes one batch of what is queued before returning
 * ({@link EventSourceConnection#writePossible()}: Tomcat loses the request if a write fails on another thread
 * while its own is still in that callback's dispatch). The role is taken and given up under the connection's
 * monitor, which orders this thread's use of the stream and {@link #flushPending} with the pool writers'.
 * <p>
 * An output stream without non-blocking I/O ({@code setWriteListener} throws
 * {@link UnsupportedOperationException}, as Spring's {@code MockHttpServletResponse} does under MockMvc) gets
 * plain writes instead, see {@link #listen()}.
 */
final class ServletResponseChannel implements EventSourceConnection.Sink, WriteListener {

	private final EventSourceConnection connection;

	private final DeferredResult<Object> result;

	private final ServletOutputStream out;

	private boolean flushPending;

	/** The container completed the response: its stream may already serve another request. */
	private volatile boolean done;

	ServletResponseChannel(EventSourceConnection connection, DeferredResult<Object> result, ServletOutputStream out) {
		this.connection = connection;
		this.result = result;
		this.out = out;
		result.onError(connection::failed);
		result.onCompletion(() -> {
			this.done = true;
			connection.completed();
		});
	}

	/**
	 * Register for the container's write callbacks, which start the writing with {@code onWritePossible}. A
	 * stream that does not support them (MockMvc's) never blocks and is always ready: it is written at once, with
	 * the same code, as if the container had called back, but by the pool's writers, as this thread is still the
	 * handler's. A container's {@link IllegalStateException} (not in
	 * async mode, a listener already set) is a bug, not a reason to write blocking, so it propagates.
	 */
	void listen() {
		try {
			this.out.setWriteListener(this);
		}
		catch (UnsupportedOperationException ex) {
			this.connection.writable();
		}
	}

	@Override
	public boolean write(byte @Nullable [] bytes) throws IOException {
		if (this.done) {
			// Spring's response wrapper guards write and flush, but not isReady().
			throw new IOException("The response is already complete");
		}
		if (bytes != null) {
			this.out.write(bytes);
			if (!this.out.isReady()) {
				this.flushPending = true;
				return false;
			}
		}
		else if (!this.flushPending) {
			return true;
		}
		this.flushPending = false;
		this.out.flush();
		return this.out.isReady();
	}

	@Override
	public void complete() {
		// Dispatches back to Spring MVC, which completes the response once the dispatch returns.
		this.result.setResult(null);
	}

	@Override
	public void onWritePossible() {
		// Written on the container's thread, see EventSourceConnection.writePossible.
		this.connection.writePossible();
	}

	@Override
	public void onError(Throwable failure) {
		this.connection.failed(failure);
	}

}
