package io.github.sisksse;

import java.util.List;
import java.util.function.Consumer;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * The registry's listeners. Immutable, so thread-safe; a failing listener is logged and never stops the others
 * nor the thread that reported the event (often a writer or a container thread).
 */
final class Listeners {

	private static final Log logger = LogFactory.getLog(Listeners.class);

	private final List<EventSourceListener> all;

	Listeners(List<EventSourceListener> all) {
		this.all = List.copyOf(all);
	}

	boolean isEmpty() {
		return this.all.isEmpty();
	}

	void notify(Consumer<EventSourceListener> event) {
		for (EventSourceListener listener : this.all) {
			try {
				event.accept(listener);
			}
			catch (VirtualMachineError ex) {
				throw ex;
			}
			catch (Throwable ex) {
				logger.warn("Event source listener " + listener + " failed", ex);
			}
		}
	}

}
