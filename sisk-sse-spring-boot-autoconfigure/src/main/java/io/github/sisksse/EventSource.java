package io.github.sisksse;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * One open Server-Sent Events stream to one client, opened with {@link EventSourceRegistry#open(String)}.
 * <p>
 * Return it (or its {@link #emitter()}) from a controller method. Nothing here blocks: {@code send} validates and
 * encodes the event on the calling thread, appends it to the registry's ordered log and returns; the registry
 * delivers each logged event, in log order, to the bounded outbound queue of every source it is meant for, and a
 * shared writer pool writes queued events in order, several at once with a single write and flush, at most one
 * writer per source at a time. So every method is safe to call from any thread: the bytes of two events never
 * interleave, an event is never half-written, and events arrive in the order they were sent, whichever methods
 * sent them.
 * <p>
 * Every event gets an {@code id:}: the application's, or its position in the log. With replay (see
 * {@link EventSourceRegistry.Builder#replay}), a client that reconnects to an identified stream with
 * {@code Last-Event-ID} receives what it missed.
 * <p>
 * A source ends exactly once, for the first {@link CloseReason} that applies. It is then removed from its
 * registry at once, {@link #isOpen()} turns {@code false}, further sends return {@code false}, and
 * {@link #whenClosed()} completes. {@link #close()} turns {@link #isOpen()} {@code false} at once, and ends the
 * source once what was sent before it is delivered.
 */
public interface EventSource {

	/**
	 * Return the identifier this source was opened with.
	 * @return the identifier, or {@code null} for an anonymous source
	 */
	@Nullable String identifier();

	/**
	 * Add a response header, like Sisk's {@code AppendHeader}. Headers reach the client when the controller
	 * method returns, so this is only possible before the first send and before the response started.
	 * @param name the header name, without CR, LF or ':'
	 * @param value the header value, without CR or LF
	 * @return this source
	 * @throws IllegalArgumentException if the name or value is not valid in a header
	 * @throws IllegalStateException if an event was already sent or the response headers were already written
	 */
	EventSource header(String name, String value);

	/**
	 * Send a message with the given data, like Sisk's {@code Send}. A {@link CharSequence} is sent as text,
	 * a {@link ServerSentEvent} as that event, and any other object is serialised to JSON by Spring MVC's
	 * message converters. Text with line breaks becomes several {@code data:} lines and arrives as one message.
	 * @param data the data to send
	 * @return {@code true} if the event was sent; {@code false} if the source is closed or closing. An event that
	 * then overflows the source's queue closes it with {@link CloseReason#QUEUE_OVERFLOW} (or drops older ones,
	 * as configured)
	 * @throws IllegalArgumentException if the data cannot be serialised
	 */
	boolean send(Object data);

	/**
	 * Send a complete event: any of id, event name, retry time, comment and data. The data is serialised as in
	 * {@link #send(Object)}.
	 * @param event the event to send
	 * @return {@code true} if the event was sent; {@code false} if the source is closed or closing. An event that
	 * then overflows the source's queue closes it with {@link CloseReason#QUEUE_OVERFLOW} (or drops older ones,
	 * as configured)
	 * @throws IllegalArgumentException if the event name, id or comment contains CR or LF (the id also NUL),
	 * or the event has no field at all
	 */
	boolean send(ServerSentEvent<?> event);

	/**
	 * Send a message as a named event, which a page receives with {@code addEventListener(eventName, ...)}; the
	 * data is serialised as in {@link #send(Object)}. A shortcut for
	 * {@code send(ServerSentEvent.builder(data).event(eventName).build())}.
	 * @param eventName the event name, not empty, without CR or LF
	 * @param data the data to send
	 * @return {@code true} if the event was sent; {@code false} if the source is closed or closing. An event that
	 * then overflows the source's queue closes it with {@link CloseReason#QUEUE_OVERFLOW} (or drops older ones,
	 * as configured)
	 * @throws IllegalArgumentException if the name is empty or contains CR or LF, or the data cannot be serialised
	 */
	boolean send(String eventName, Object data);

	/**
	 * Close this source when nothing was written to it for the given time, like Sisk's {@code WaitForFail}: an
	 * idle timeout, counted from this call and restarted by every successful write of an event (and of a ping
	 * when {@code sisk.sse.ping.resets-wait-for-fail} is set). It never blocks; code that Sisk runs after
	 * {@code WaitForFail} returns goes in a callback on the returned future.
	 * @param idleTimeout a positive duration
	 * @return a future completed once the source has ended, as {@link #whenClosed()}
	 */
	CompletableFuture<CloseReason> waitForFail(Duration idleTimeout);

	/**
	 * Keep this source open until a write fails or it is closed, like Sisk's {@code KeepAlive}; cancels any
	 * {@link #waitForFail(Duration) idle timeout}.
	 * @return a future completed once the source has ended, as {@link #whenClosed()}
	 */
	CompletableFuture<CloseReason> keepAlive();

	/**
	 * Configure pings for this source, like Sisk's {@code WithPing}. The policy comes pre-filled with the
	 * {@code sisk.sse.ping.*} defaults (and already started when {@code sisk.sse.ping.enabled} is true).
	 * @param configurer receives the policy; call {@link PingPolicy#start()} to start pinging
	 * @return this source
	 */
	EventSource withPing(Consumer<PingPolicy> configurer);

	/**
	 * Close this source from the server side, like Sisk's {@code Close}. It takes its place in the registry's log
	 * like a send: every event sent before this call, to this source or to a group it belongs to, is still
	 * delivered, then the configured close event ({@code sisk.sse.close-event.*}), if any, and the response
	 * completes once they are written. From this call on the source is no longer open and accepts nothing; it
	 * leaves the registry as soon as the events before it are delivered. Calling it again does nothing.
	 * @return the emitter, so that a controller can {@code return source.close();}
	 */
	SseEmitter close();

	/**
	 * Return whether this source still accepts events.
	 * @return {@code false} once the source is closing or has ended
	 */
	boolean isOpen();

	/**
	 * Return a future that is completed, exactly once, with the reason this source ended. For a source closed
	 * with {@link #close()} it completes once the queued events were written. Callbacks run on the thread that
	 * ended the source; use the {@code ...Async} variants for slow work.
	 * @return a new dependent future on each call, so that completing it has no effect on the source
	 */
	CompletableFuture<CloseReason> whenClosed();

	/**
	 * Return a snapshot of this source for monitoring: client address, open and last-write times, events written
	 * and queue depth.
	 * @return the snapshot
	 */
	EventSourceInfo info();

	/**
	 * Return the Spring MVC emitter behind this source, to return from a controller method declared to return
	 * {@link SseEmitter}. Writing to it directly bypasses the queue and is not supported.
	 * @return the emitter
	 */
	SseEmitter emitter();

}
