package ort

import "fmt"

// The weight w is a Go slice the graph takes as an input: changing it in place changes the
// next Run, and the output slice is rewritten each time.
func ExampleSession_Run() {
	if err := Init(""); err != nil {
		fmt.Println(err)
		return
	}
	dims := []int64{-1, 3}
	// singleNodeModel stands in for a graph built by package graphs.
	model, err := singleNodeModel("Add",
		[]IOInfo{{"x", ElemFloat32, dims}, {"w", ElemFloat32, dims}},
		[]IOInfo{{"y", ElemFloat32, dims}})
	if err != nil {
		fmt.Println(err)
		return
	}
	session, err := NewSession("add", model, Options{Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer session.Close()

	w := []float32{10, 20, 30}
	y := make([]float32, 3)
	xT, _ := NewTensor([]int64{1, 3}, []float32{1, 2, 3})
	wT, _ := NewTensor([]int64{1, 3}, w)
	yT, _ := NewTensor([]int64{1, 3}, y)
	defer xT.Close()
	defer wT.Close()
	defer yT.Close()
	for range 2 {
		if err := session.Run([]Value{xT, wT}, []Value{yT}); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(y)
		w[0] += 100
	}
	// Output:
	// [11 22 33]
	// [111 22 33]
}
