package io.github.sisksse.test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;

/**
 * What a parser reported for one stream, kept for reading from other threads: written by the one thread that
 * feeds the parser, read as snapshots by any.
 */
final class ReceivedEvents implements SseParser.Listener {

	private final List<SseEvent> events = new CopyOnWriteArrayList<>();

	private final List<String> comments = new CopyOnWriteArrayList<>();

	private final SseParser parser = new SseParser(this);

	private volatile @Nullable Long retry;

	/**
	 * Parse a whole stream.
	 */
	static ReceivedEvents of(String stream, boolean ended) {
		ReceivedEvents received = new ReceivedEvents();
		received.parser.feed(stream);
		if (ended) {
			received.parser.end();
		}
		return received;
	}

	SseParser parser() {
		return this.parser;
	}

	List<SseEvent> events() {
		return new ArrayList<>(this.events);
	}

	List<String> comments() {
		return new ArrayList<>(this.comments);
	}

	String lastEventId() {
		return this.parser.lastEventId();
	}

	@Nullable Long retry() {
		return this.retry;
	}

	@Override
	public void onEvent(SseEvent event) {
		this.events.add(event);
	}

	@Override
	public void onComment(String text) {
		this.comments.add(text);
	}

	@Override
	public void onRetry(long millis) {
		this.retry = millis;
	}

}
