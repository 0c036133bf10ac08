package io.github.sisksse.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * A runnable demo of the Sisk SSE starter: start it and open http://localhost:8080/ to watch events arrive live.
 * <p>
 * Scheduling is enabled for the {@link Ticker}; the event source registry then shares the application's task
 * scheduler for its pings and timeouts instead of creating one of its own.
 */
@SpringBootApplication
@EnableScheduling
public class SampleApplication {

	/**
	 * Start the sample application.
	 * @param args the command line arguments
	 */
	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
