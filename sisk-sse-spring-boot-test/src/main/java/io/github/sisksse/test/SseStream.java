package io.github.sisksse.test;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * What a test client received from one {@code text/event-stream} response so far: {@link SseClient} over HTTP,
 * or a {@link MockMvcSse} stream. {@link SseAssertions#assertThat(SseStream)} waits on it. The methods return
 * snapshots and may be called from any thread while events arrive.
 */
public interface SseStream {

	/**
	 * Return the response's status code.
	 * @return the HTTP status
	 */
	int status();

	/**
	 * Return a response header.
	 * @param name the header name, in any case
	 * @return its first value, or {@code null} if absent
	 */
	@Nullable String header(String name);

	/**
	 * Return the events dispatched so far, in order.
	 * @return a snapshot of the events
	 */
	List<SseEvent> events();

	/**
	 * Return the data of the events dispatched so far, whatever their type, in order.
	 * @return a snapshot of the data
	 */
	default List<String> data() {
		return events().stream().map(SseEvent::data).toList();
	}

	/**
	 * Return the data of the unnamed events (type {@code message}) only, as a page's {@code onmessage} sees them.
	 * @return a snapshot of the messages
	 */
	default List<String> messages() {
		return events().stream().filter((event) -> event.type().equals("message")).map(SseEvent::data).toList();
	}

	/**
	 * Return the comments received so far (browsers ignore them; pings are comments by default).
	 * @return a snapshot of the comments, each without its colon and one leading space
	 */
	List<String> comments();

	/**
	 * Return the id a browser would send as {@code Last-Event-ID} if it reconnected now.
	 * @return the last event id, empty if none
	 */
	String lastEventId();

	/**
	 * Return the reconnection time the server last set with {@code retry:}.
	 * @return milliseconds, or {@code null} if never set
	 */
	@Nullable Long retry();

	/**
	 * Return whether the server ended the stream (it completed the response, or the connection broke); a stream
	 * the test closed itself has not ended this way.
	 * @return whether no more events will arrive from the server
	 */
	boolean isEnded();

}
