package io.github.sisksse;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.http.codec.ServerSentEvent;
import org.springframework.http.converter.HttpMessageConverters;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * The parts of one registry, made from its builder's settings and started together by {@link #start}, and stopped
 * together by {@link #stop} once every source has ended.
 * <p>
 * Starting them starts threads: the registry's own scheduler if the builder gave none, the {@link WriterPool}'s and
 * the {@link Dispatcher}'s. If the {@link EventLog} then fails to start, those are stopped again before the failure
 * is thrown, since there is no registry to be destroyed.
 * <p>
 * <b>Thread safety.</b> Immutable, and every part is thread-safe on its own. {@link #start} and {@link #stop} are
 * each called once, from the registry's constructor and from its {@code destroy()}.
 *
 * @param connections what every connection shares
 * @param index the live sources
 * @param admission the connection limits
 * @param targets the targets of the log's entries
 * @param log the log's positions and, with replay, the publications kept for it
 * @param dispatcher delivers the log's entries in order
 * @param writers writes queued bytes
 * @param eventLog the log the publications are appended to
 * @param publisher the sending side
 * @param replay whether a reconnecting client is replayed what it missed
 * @param duplicates the duplicate-identifier policy
 * @param retry the reconnection delay sent to clients, if any
 * @param ownScheduler the scheduler made here because the builder gave none, destroyed with the parts
 */
record RegistryParts(ConnectionSettings connections, SourceIndex index, Admission admission, Targets targets,
		PublicationLog log, Dispatcher dispatcher, WriterPool writers, EventLog eventLog, Publisher publisher,
		boolean replay, DuplicateIdentifierPolicy duplicates, @Nullable Duration retry,
		@Nullable ThreadPoolTaskScheduler ownScheduler) {

	/**
	 * Make the parts and start their threads and the event log.
	 * @param settings the builder's settings
	 * @return the started parts
	 */
	static RegistryParts start(EventSourceRegistry.Builder settings) {
		EventEncoder encoder = new EventEncoder((settings.messageConverters != null) ? settings.messageConverters
				: () -> HttpMessageConverters.forServer().registerDefaults().build());
		// Encode the configured events once, so that a bad name or message fails now rather than at first use.
		byte[] ping = encoder.ping(settings.pingFormat, settings.pingMessage, settings.pingEventName);
		byte[] closeEvent = (settings.closeEventName != null) ? encoder
			.encode(ServerSentEvent.builder(settings.closeEventData).event(settings.closeEventName).build()) : null;
		TaskScheduler scheduler;
		ThreadPoolTaskScheduler ownScheduler;
		if (settings.scheduler != null) {
			scheduler = settings.scheduler;
			ownScheduler = null;
		}
		else {
			ownScheduler = new ThreadPoolTaskScheduler();
			ownScheduler.setPoolSize(1);
			ownScheduler.setThreadNamePrefix("sisk-sse-scheduler-");
			ownScheduler.setDaemon(true);
			ownScheduler.setRemoveOnCancelPolicy(true);
			ownScheduler.initialize();
			scheduler = ownScheduler;
		}
		Targets targets = new Targets();
		WriterPool writers = new WriterPool(settings.writerThreads, settings.writerExecutor, scheduler,
				settings.writeTimeout);
		Duration retry = settings.retry;
		ConnectionSettings connections = new ConnectionSettings(scheduler, encoder, writers,
				new Listeners(settings.listeners), settings.pingEnabled, settings.pingInterval, ping,
				settings.pingResetsWaitForFail, settings.waitForFail, settings.maxLifetime, settings.bindTimeout,
				(retry != null) ? EventEncoder.retry(retry) : EventEncoder.comment(""), closeEvent,
				settings.queueMaxEvents, settings.queueMaxBytes, settings.overflow);
		SourceIndex index = new SourceIndex(settings.duplicateIdentifier);
		Admission admission = new Admission(settings.maxConnections, settings.maxConnectionsPerClient,
				(retry != null) ? retry : Duration.ofSeconds(5));
		boolean replay = settings.replay;
		PublicationLog log = replay
				? new PublicationLog(settings.replayMaxEvents, settings.replayMaxBytes, settings.replayMaxAge)
				: new PublicationLog(0, 0, Duration.ZERO);
		Dispatcher dispatcher = new Dispatcher(log, targets, index, writers, connections, encoder,
				settings.duplicateIdentifier == DuplicateIdentifierPolicy.ALLOW, settings.resetEventName);
		EventLog eventLog = (settings.eventLog != null) ? settings.eventLog : new InMemoryEventLog();
		Publisher publisher = new Publisher(encoder, index, eventLog, targets, dispatcher, scheduler);
		dispatcher.start();
		try {
			eventLog.start(dispatcher, index::presence);
		}
		catch (RuntimeException | Error ex) {
			// No registry, so no destroy(): release the threads started here.
			dispatcher.stop();
			writers.stop();
			if (ownScheduler != null) {
				ownScheduler.destroy();
			}
			throw ex;
		}
		return new RegistryParts(connections, index, admission, targets, log, dispatcher, writers, eventLog,
				publisher, replay, settings.duplicateIdentifier, retry, ownScheduler);
	}

	/**
	 * Stop the threads and the event log, once every source has ended: the turns still queued are abandoned.
	 */
	void stop() {
		this.dispatcher.stop();
		this.writers.stop();
		this.eventLog.stop();
		if (this.ownScheduler != null) {
			this.ownScheduler.destroy();
		}
	}

}
