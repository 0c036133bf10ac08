package io.github.sisksse;


import org.springframework.context.ApplicationEventPublisher;

/**
 * Turns a registry's open and close callbacks into Spring application events.
 */
final class ApplicationEventsListener implements EventSourceListener {

	private final ApplicationEventPublisher publisher;

	ApplicationEventsListener(ApplicationEventPublisher publisher) {
		this.publisher = publisher;
	}

	@Override
	public void onOpen(EventSource source) {
		this.publisher.publishEvent(new EventSourceOpenedEvent(source));
	}

	@Override
	public void onClose(EventSource source, CloseReason reason) {
		this.publisher.publishEvent(new EventSourceClosedEvent(source, reason));
	}

}
