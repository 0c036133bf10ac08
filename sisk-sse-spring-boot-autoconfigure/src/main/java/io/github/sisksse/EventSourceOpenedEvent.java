package io.github.sisksse;

import org.springframework.context.ApplicationEvent;

/**
 * Published when an {@link EventSource} opens, once per source, on the thread that opened it. Listen with
 * {@code @EventListener}.
 */
public class EventSourceOpenedEvent extends ApplicationEvent {

	/**
	 * Create a new event.
	 * @param source the source that opened
	 */
	public EventSourceOpenedEvent(EventSource source) {
		super(source);
	}

	/**
	 * Return the source that opened.
	 * @return the source
	 */
	public EventSource getEventSource() {
		return (EventSource) getSource();
	}

}
