package io.github.sisksse;

import java.io.IOException;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;

/**
 * The side of an {@link EventSource} that a transport sees: the library's Spring MVC binding (package
 * {@code io.github.sisksse.mvc}) uses it to carry a source over a Servlet response. Applications have no reason to
 * use it; it is public only so that the binding can live in its own package.
 * <p>
 * The transport calls {@link #prepareResponse}, then, unless {@link #isFinished()}, {@link #bind} once with a
 * {@link Sink}, and from then on reports what the container tells it. Every method is thread-safe.
 */
public interface EventSourceConnection {

	/**
	 * Return the connection behind a controller's return value.
	 * @param returnValue an {@link EventSource} or the emitter returned by {@link EventSource#close()} or
	 * {@link EventSource#emitter()}
	 * @return the connection, or empty if the value is neither
	 */
	static Optional<EventSourceConnection> of(@Nullable Object returnValue) {
		if (returnValue instanceof DefaultEventSource source) {
			return Optional.of(source.connection());
		}
		if (returnValue instanceof SourceEmitter emitter) {
			return Optional.of(emitter.source().connection());
		}
		return Optional.empty();
	}

	/**
	 * Add this stream's response headers (content type, caching, the application's own) to the given ones. From
	 * now on {@link EventSource#header} fails: the headers are about to be written.
	 * @param headers the response headers to complete
	 */
	void prepareResponse(HttpHeaders headers);

	/**
	 * Return whether this source ended with nothing left to write (a {@code HEAD} request, say), so that the
	 * response needs headers only.
	 * @return whether no stream is needed
	 */
	boolean isFinished();

	/**
	 * Start writing to the given sink, once the transport is ready to accept bytes; call once.
	 * @param sink where the bytes go
	 */
	void bind(Sink sink);

	/**
	 * The sink can accept bytes again, after {@link Sink#write} returned {@code false} (and once at first).
	 */
	void writable();

	/**
	 * The container calls back, on one of its own threads, that the sink can accept bytes (a Servlet container's
	 * {@code WriteListener.onWritePossible}): as {@link #writable()}, except that on the first call of a connection
	 * (the container's answer to registering for its callbacks) the first batch of what is queued is written on the
	 * calling thread, before this method returns, rather than on a writer of the pool, which takes the rest. Writing
	 * never blocks, so the container's thread is held for one batch at most, plus, when that write fails, the
	 * source's end (its close callbacks and listeners, which the application should keep short). Later calls only
	 * hand the writing to the pool, so that a burst to many clients keeps the container's threads free.
	 * <p>
	 * Why: Tomcat does not survive a write failing on another thread while its own thread is still inside the
	 * write callback's dispatch. The failure sets the response's error state from outside; the dispatch, when it
	 * sees it, ends the connection and recycles the request without ever completing it (no
	 * {@code AsyncListener.onComplete}, the context's count of asynchronous requests never goes down, graceful
	 * shutdown waits its full timeout), and the error dispatch the failure asked for finds the socket closed. The
	 * connection's first write is the one that meets a client that reset its connection right after its request,
	 * so it is done on the container's thread: a failure there is handled by the container like any other on its
	 * own thread. (A later write, on the pool, may still fail while the container's thread is in a callback's
	 * dispatch, for a client that resets later: narrower, not closed; the Servlet API does not say when the dispatch
	 * ends.)
	 */
	default void writePossible() {
		writable();
	}

	/**
	 * The sink failed or the container reported an error on the response.
	 * @param failure what went wrong
	 */
	void failed(Throwable failure);

	/**
	 * The container completed the response: no byte can be written any more.
	 */
	void completed();

	/**
	 * Where a connection writes its bytes, without ever blocking. Only one thread at a time calls it: the writer
	 * holding the connection's writer role.
	 */
	interface Sink {

		/**
		 * Write and flush the bytes, without blocking.
		 * @param bytes the bytes, or {@code null} to only flush what an earlier call left pending
		 * @return {@code true} if the sink can take more at once; {@code false} if it holds bytes back, in which
		 * case it calls {@link EventSourceConnection#writable()} once they are written
		 * @throws IOException if the response is broken
		 */
		boolean write(byte @Nullable [] bytes) throws IOException;

		/**
		 * Complete the response, once; never blocks.
		 */
		void complete();

	}

}
