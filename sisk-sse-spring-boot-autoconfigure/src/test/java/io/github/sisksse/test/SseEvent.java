package io.github.sisksse.test;

/**
 * A dispatched event, as a browser's {@code MessageEvent} would carry it.
 */
public record SseEvent(String type, String data, String lastEventId) {
}
