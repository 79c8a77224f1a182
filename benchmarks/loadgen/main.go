// The HTTPS sweep's load (https-sweep.ts): DV2000 events over HTTPS, a new connection and a full TLS handshake per
// event, at a fixed rate whatever the answers do; answers as JSON on stdout, as benchmarks/load-generator.ts writes
// them. In Go because node's TLS client cost 1.8 ms of CPU per connection here, a core's worth at 550 events/s, on
// the two cores the servers under test need; Go's costs a fraction of that.
//
// Usage: go run benchmarks/loadgen/main.go PORT CA_FILE RATE COUNT FIRST_INDEX TIMEOUT_MS
// CA_FILE "-": plain HTTP, still a new connection per event (Connection: close).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type answer struct {
	Status   int     `json:"status"`
	Ms       float64 `json:"ms"`
	TimedOut bool    `json:"timedOut,omitempty"`
	Refused  bool    `json:"refused,omitempty"`
}

// body is benchmarks/common.ts's body(i): the DV2000 document's room update, one of 400 rooms.
func body(i int) string {
	return fmt.Sprintf(`{"category":3,"date":"2023/09/13","event":12,"message":{"actor":"Visitant","event":12,"firstname":"Carmella","guestid":"%d","lastname":"Galvano","maidstatus":"0","mailbox":"3101","room":"100-%d","source":"testapp","timestamp":"2023-09-13T08:07:46-07:00","vip":"0"},"service_id":1064,"service_name":"Visitant","time":"08:07:46","timestamp":"2023-09-13T08:07:46-07:00"}`, 15478364+i, i%400)
}

func argument(index int) int {
	value, err := strconv.Atoi(os.Args[index])
	if err != nil {
		fmt.Fprintf(os.Stderr, "usage: loadgen PORT CA_FILE RATE COUNT FIRST_INDEX TIMEOUT_MS (%v)\n", err)
		os.Exit(2)
	}
	return value
}

func main() {
	if len(os.Args) != 7 {
		fmt.Fprintln(os.Stderr, "usage: loadgen PORT CA_FILE RATE COUNT FIRST_INDEX TIMEOUT_MS")
		os.Exit(2)
	}
	port, rate, count, first, timeoutMs := argument(1), argument(3), argument(4), argument(5), argument(6)
	scheme, tlsConfig := "http", (*tls.Config)(nil)
	if os.Args[2] != "-" {
		pem, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		scheme, tlsConfig = "https", &tls.Config{RootCAs: roots}
	}
	timeout := time.Duration(timeoutMs) * time.Millisecond
	client := &http.Client{
		Timeout: timeout,
		// No keep-alive and no session cache: every event pays a full handshake, as DV2000's do.
		Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: tlsConfig},
	}
	url := fmt.Sprintf("%s://127.0.0.1:%d/v1/dv2000/bench?token=bench-secret-1", scheme, port)

	answers := make([]answer, count)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < count; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); wait > time.Millisecond {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			answers[i] = post(client, url, body(first+i), timeout)
		}(i)
	}
	wg.Wait()
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func post(client *http.Client, url, payload string, timeout time.Duration) answer {
	sent := time.Now()
	elapsed := func() float64 { return float64(time.Since(sent).Microseconds()) / 1000 }
	request, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(payload))
	request.Header.Set("content-type", "application/json")
	request.Header.Set("user-agent", "DuVoice/8.0.20")
	request.Close = true
	response, err := client.Do(request)
	if err != nil {
		var netError net.Error
		if errors.As(err, &netError) && netError.Timeout() {
			return answer{Ms: float64(timeout.Milliseconds()), TimedOut: true}
		}
		// Reset or closed before an answer: an overloaded server refusing the connection.
		return answer{Ms: elapsed(), Refused: true}
	}
	_, _ = io.Copy(io.Discard, response.Body)
	response.Body.Close()
	return answer{Status: response.StatusCode, Ms: elapsed()}
}
